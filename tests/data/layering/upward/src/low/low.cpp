#include "switchyard/low/low.hpp"
