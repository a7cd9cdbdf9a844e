// A raw TCP peer of the server, for tests that send it what no well-behaved
// client would (garbage, half messages, silence): connect, write, read one
// JSON object, and see the server close the connection.
//
// Thread-compatible: functions of a socket the caller owns.
#ifndef TESTS_SERVER_RAW_PEER_H_
#define TESTS_SERVER_RAW_PEER_H_

#include <string>

#include "common/unique_fd.h"

namespace testing_support {

// A connection to 127.0.0.1:`port` (a test failure if connect fails).
common::UniqueFd ConnectTo(int port);

// Writes all of `bytes` (no SIGPIPE); false if the socket fails first.
bool SendAll(int fd, const std::string& bytes);

// Reads until one JSON object is complete or the peer closes; returns the
// object's text, "" if the connection was closed first, "timeout" after
// 30 s of silence.
std::string ReadObject(int fd);

// True if the very next thing read is the end of the connection (or an
// error): the server closed it without sending anything more. False if a
// byte comes first or nothing comes within 30 s.
bool ClosedWithNothingMore(int fd);

// True if the server closes the connection within 30 s of silence, after
// anything it still sends (read and dropped): a reply before closing is
// allowed.
bool ClosedAfterDraining(int fd);

}  // namespace testing_support

#endif  // TESTS_SERVER_RAW_PEER_H_
