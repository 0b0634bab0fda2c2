// The client's HTTP request as the server hands it on. Header fields live in a per-connection
// arena that is reset for every request: a request's dozen header allocations cost nothing, and
// nothing is freed one by one.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory_resource>

namespace switchyard::request {

using Fields = boost::beast::http::basic_fields<std::pmr::polymorphic_allocator<char>>;
using HttpRequest = boost::beast::http::message<true, boost::beast::http::string_body, Fields>;

}  // namespace switchyard::request
