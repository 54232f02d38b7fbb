#pragma once
// The progress line of long runs (docs/outputs.md): on stderr, only when it is a terminal and the
// work has taken more than about a second; a bar, trials done, the rate and the time left. Every
// update starts with "\r\033[K" (back to the start of the line, erase it), so it replaces the
// whole previous line however long that was, and finish() erases the line the same way before
// the command prints anything else.
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>

namespace sib::cli {

/// The escape sequence that takes the cursor to the start of the line and erases the line.
inline constexpr const char* erase_line = "\r\033[K";

/// True when `err` is the process's standard error and that is a terminal: not when stderr is
/// redirected, nor when the caller (a test) passed its own stream.
inline bool stderr_is_terminal(const std::ostream& err) {
    return &err == &std::cerr && isatty(STDERR_FILENO) == 1;
}

/// Seconds on a steady clock; tests pass their own to drive the line without waiting.
using SecondsClock = std::function<double()>;

inline double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class Progress {
  public:
    /// `enabled` is false for --quiet; `terminal` says whether `out` is a terminal
    /// (stderr_is_terminal); nothing is shown before `delay_seconds` have passed.
    Progress(long long total, bool enabled, std::ostream& out, bool terminal,
             double delay_seconds = 1.0, SecondsClock clock = steady_seconds)
        : total_(total),
          enabled_(enabled && terminal && total > 0),
          delay_(delay_seconds),
          out_(out),
          clock_(std::move(clock)),
          start_(clock_()),
          last_(start_) {}
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    ~Progress() { finish(); }

    /// Called from worker threads with the number of trials finished so far; redraws the line
    /// at most every 0.2 s.
    void update(long long done) {
        if (!enabled_) return;
        std::lock_guard lock(mutex_);
        if (finished_) return;
        const double now = clock_();
        const double elapsed = now - start_;
        if (elapsed < delay_ || (shown_ && now - last_ < 0.2)) return;
        last_ = now;
        shown_ = true;
        const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
        const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
        constexpr int width = 30;
        const int filled =
            static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
        out_ << erase_line << "[" << std::string(static_cast<std::size_t>(filled), '#')
             << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << done << "/"
             << total_ << "  " << static_cast<long long>(rate) << " trials/s  "
             << static_cast<long long>(left + 0.5) << " s left" << std::flush;
    }

    /// Erases the line if it was shown; later updates show nothing. Call it before printing
    /// anything else (the summary, an error), so that nothing is printed after the line.
    void finish() {
        std::lock_guard lock(mutex_);
        if (shown_ && !finished_) out_ << erase_line << std::flush;
        finished_ = true;
    }

  private:
    long long total_;
    bool enabled_;
    double delay_;
    std::ostream& out_;
    SecondsClock clock_;
    bool shown_ = false;
    bool finished_ = false;
    std::mutex mutex_;
    double start_;
    double last_;
};

}  // namespace sib::cli
