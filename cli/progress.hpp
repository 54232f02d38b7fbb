#pragma once
// The progress line of long runs (docs/outputs.md): on stderr, only when it is a terminal and the
// work has taken more than about a second; a bar, trials done, the rate and the time left.
#include <chrono>
#include <mutex>
#include <ostream>
#include <string>

namespace sib::cli {

class Progress {
  public:
    /// `enabled` is false for --quiet; `terminal` says whether `out` is a terminal; nothing is
    /// shown before `delay_seconds` have passed.
    Progress(long long total, bool enabled, std::ostream& out, bool terminal,
             double delay_seconds = 1.0)
        : total_(total),
          enabled_(enabled && terminal && total > 0),
          delay_(delay_seconds),
          out_(out) {}
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    ~Progress() {
        if (shown_) out_ << "\r\033[K" << std::flush;  // clear the line
    }

    /// Called from worker threads with the number of trials finished so far.
    void update(long long done) {
        if (!enabled_) return;
        std::lock_guard lock(mutex_);
        const double elapsed = seconds_since(start_);
        if (elapsed < delay_ || (shown_ && seconds_since(last_) < 0.2)) return;
        last_ = clock::now();
        shown_ = true;
        const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
        const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
        constexpr int width = 30;
        const int filled =
            static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
        out_ << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
             << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << done << "/"
             << total_ << "  " << static_cast<long long>(rate) << " trials/s  "
             << static_cast<long long>(left + 0.5) << " s left" << std::flush;
    }

  private:
    using clock = std::chrono::steady_clock;
    static double seconds_since(clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    }
    long long total_;
    bool enabled_;
    double delay_;
    std::ostream& out_;
    bool shown_ = false;
    std::mutex mutex_;
    clock::time_point start_ = clock::now();
    clock::time_point last_ = start_;
};

}  // namespace sib::cli
