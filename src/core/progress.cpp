#include "core/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvb {
namespace {
constexpr double kTtyPeriodMs = 100;      // redraw rate of the terminal bar
constexpr double kPlainPeriodMs = 10000;  // one log line per 10 s when not a terminal
}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(::isatty(2) == 1) {
  enabled_ = spdlog::default_logger_raw()->should_log(spdlog::level::info);
}

Progress::~Progress() { finish(); }

void Progress::tick(int64_t n) {
  done_ += n;
  draw(false);
}

void Progress::resume_at(int64_t n) {
  done_ = resumed_ = n;
  draw(false);
}

void Progress::set_note(std::string note) { note_ = std::move(note); }

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
  if (enabled_ && tty_) std::fputc('\n', stderr);
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

std::string Progress::render(int64_t done, int64_t total, double seconds, const std::string& unit,
                             const std::string& note, int width, int64_t resumed) {
  std::string out;
  const double rate = seconds > 0 ? static_cast<double>(done - resumed) / seconds : 0;
  if (total > 0) {
    const double frac = std::clamp(static_cast<double>(done) / total, 0.0, 1.0);
    if (width > 0) {
      const int fill = static_cast<int>(frac * width);
      out += "[" + std::string(fill, '#') + std::string(width - fill, '.') + "] ";
    }
    out += fmt::format("{}/{} {:.0f}%", done, total, 100 * frac);
  } else {
    out += fmt::format("{}", done);
  }
  out += fmt::format(" {:.2g} {}/s", rate, unit);
  if (total > 0 && done < total) out += " ETA " + (rate > 0 ? format_duration((total - done) / rate) : "?");
  out += " elapsed " + format_duration(seconds);
  if (!note.empty()) out += " " + note;
  return out;
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  const double now = timer_.ms();
  if (!force && now - last_draw_ < (tty_ ? kTtyPeriodMs : kPlainPeriodMs)) return;
  last_draw_ = now;
  if (tty_) {
    std::string line = label_ + " " + render(done_, total_, now / 1000, unit_, note_, 30, resumed_);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());  // clear to end of line, then redraw
    std::fflush(stderr);
  } else if (force || done_ > 0) {
    spdlog::info("{} {}", label_, render(done_, total_, now / 1000, unit_, note_, 0, resumed_));
  }
}

}  // namespace kvb
