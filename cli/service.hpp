// What a command tells its service manager, without libsystemd: readiness over $NOTIFY_SOCKET
// (the sd_notify datagram protocol) and log lines with the journal's "<N>" priority prefix
// when stderr is the journal ($JOURNAL_STREAM names its device and inode).
#pragma once

#include <functional>
#include <string>

namespace acctc::cli {

// syslog(3) levels, as journald reads them from a "<N>" line prefix.
enum class LogPriority { error = 3, warning = 4, notice = 5, info = 6 };

// Writes one line to stderr, prefixed with "<N>" when stderr is the journal (so journalctl -p
// filters it), plain otherwise. Embedded newlines start new lines of the same priority.
void log_line(LogPriority priority, const std::string& line);

// Sends a state ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET. False when there
// is no service manager listening (not started by systemd with Type=notify) or sending failed.
bool notify_service_manager(const std::string& state);

// Calls round(first) now and then on every multiple of `every` seconds on the wall clock (so
// readings land on a grid, e.g. an RRD's step), until SIGTERM or SIGINT: those are blocked and
// waited for between rounds, so a stop never cuts a round in half.
void run_every(unsigned every, const std::function<void(bool first)>& round);

} // namespace acctc::cli
