#pragma once
#include "switchyard/top/top.hpp"
