#include "sib/csv.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <random>
#include <streambuf>
#include <system_error>
#include <utility>

#include "sib/diagnostics.hpp"

namespace sib {

std::string format_number(double x) {
    SIB_ASSERT(std::isfinite(x));
    if (x == 0.0) return "0";  // also minus zero
    std::array<char, 64> buf{};
    const auto result =
        std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::general, 10);
    SIB_ASSERT(result.ec == std::errc());
    // to_chars already drops trailing zeros ("%.10g"); drop the exponent's leading zeros too.
    const std::string_view text(buf.data(), static_cast<std::size_t>(result.ptr - buf.data()));
    const std::size_t e = text.find('e');
    if (e == std::string_view::npos) return std::string(text);
    std::size_t digits = e + 2;  // after 'e' and its sign
    while (digits + 1 < text.size() && text[digits] == '0') ++digits;
    std::string out(text.substr(0, e + 2));
    out.append(text.substr(digits));
    return out;
}

std::string quote_field(std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
    std::string quoted;
    quoted.reserve(field.size() + 2);
    quoted.push_back('"');
    for (const char c : field) {
        if (c == '"') quoted.push_back('"');
        quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
}

bool looks_like_number(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return false;
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

std::string neutralise_formula(std::string_view text) {
    // The characters with which spreadsheets start a formula (or, tab and CR, that some of them
    // strip before looking for one). A number such as "-0.5" or "+1" is left alone: it is data.
    if (text.empty() || std::string_view("=+-@\t\r").find(text.front()) == std::string_view::npos ||
        looks_like_number(text))
        return std::string(text);
    std::string quoted = "'";  // appended, not '+': GCC 12 -Wrestrict false positive
    quoted.append(text);
    return quoted;
}

CsvWriter::CsvWriter(std::ostream& out, std::vector<std::string> columns)
    : out_(out), columns_(std::move(columns)) {
    SIB_ASSERT(!columns_.empty());
    for (const std::string& column : columns_) add(std::string_view(column));
    end_row();
}

void CsvWriter::begin_field() {
    SIB_ASSERT(fields_ < columns_.size());
    if (fields_ > 0) row_.push_back(',');
    ++fields_;
}

void CsvWriter::add(std::string_view text) {
    begin_field();
    const std::string safe = neutralise_formula(text);
    if (safe.find_first_of(",\"\r\n") == std::string::npos) {
        row_.append(safe);
    } else {
        row_.append(quote_field(safe));
    }
}

void CsvWriter::add(double x) {
    begin_field();
    row_.append(format_number(x));
}

void CsvWriter::add_integer(long long n) {
    begin_field();
    std::array<char, 24> buf{};
    const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), n);
    row_.append(buf.data(), result.ptr);
}

void CsvWriter::add_unsigned(unsigned long long n) {
    begin_field();
    std::array<char, 24> buf{};
    const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), n);
    row_.append(buf.data(), result.ptr);
}

void CsvWriter::end_row() {
    SIB_ASSERT(fields_ == columns_.size());
    row_.push_back('\n');
    out_.write(row_.data(), static_cast<std::streamsize>(row_.size()));
    row_.clear();
    fields_ = 0;
}

namespace {

std::string quoted_path(const std::filesystem::path& path) {
    return "'" + path.string() + "'";
}

[[noreturn]] void throw_write_error(const std::filesystem::path& name, int error) {
    throw OutputError(
        "cannot write " + quoted_path(name) + ": " +
        (error != 0 ? std::system_category().message(error) : std::string("output stream failed")));
}

/// An output stream buffer over a POSIX file descriptor that remembers the errno of the first
/// failed write (std::ofstream loses it), so the error can name the cause.
class FdStreamBuf : public std::streambuf {
  public:
    FdStreamBuf(int fd, const std::atomic<bool>* cancel) : fd_(fd), cancel_(cancel) {
        setp(buffer_.data(), buffer_.data() + buffer_.size());
    }
    FdStreamBuf(const FdStreamBuf&) = delete;
    FdStreamBuf& operator=(const FdStreamBuf&) = delete;

    /// errno of the first failure, 0 if none.
    int error() const { return error_; }

  protected:
    int_type overflow(int_type ch) override {
        if (!drain()) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override { return drain() ? 0 : -1; }

  private:
    bool drain() {
        if (error_ != 0) return false;
        // A stop request ends the file at the next buffer (64 KiB), not after the whole file.
        if (cancel_ != nullptr && cancel_->load()) {
            error_ = ECANCELED;
            return false;
        }
        const char* p = pbase();
        while (p < pptr()) {
            const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error_ = n < 0 ? errno : EIO;  // write() of a non-empty buffer never returns 0
                return false;
            }
            p += n;
        }
        setp(buffer_.data(), buffer_.data() + buffer_.size());
        return true;
    }

    int fd_;
    const std::atomic<bool>* cancel_;
    int error_ = 0;
    std::array<char, 1 << 16> buffer_{};
};

/// Closes the descriptor unless released; keeps error paths from leaking it.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

/// Fills the open descriptor through `write`, flushes, checks and fsyncs it, and closes it;
/// errors name `name`. Stops early, throwing OutputError with ECANCELED, once `cancel` is set.
void write_to_descriptor(FdGuard& fd, const std::filesystem::path& name,
                         const std::function<void(std::ostream&)>& write,
                         const std::atomic<bool>* cancel) {
    {
        FdStreamBuf buf(fd.fd, cancel);
        std::ostream out(&buf);
        out.exceptions(std::ios_base::badbit);  // stop the writer at the first failed write
        try {
            write(out);
            out.flush();
        } catch (const std::ios_base::failure&) {
            if (buf.error() == 0) throw;  // not ours
        }
        if (buf.error() != 0) throw_write_error(name, buf.error());
        if (!out) throw_write_error(name, 0);
    }
    // Durability: fsync where the file supports it (devices and some file systems do not).
    if (::fsync(fd.fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
        throw_write_error(name, errno);
    }
    if (::close(fd.release()) != 0 && errno != EINTR) throw_write_error(name, errno);
}

/// Six random letters and digits, from the system's entropy source: temporary names that another
/// user cannot predict (and so cannot plant a link at).
std::string random_suffix() {
    static constexpr std::string_view alphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device entropy;
    std::string suffix;
    for (int i = 0; i < 6; ++i) suffix.push_back(alphabet[entropy() % alphabet.size()]);
    return suffix;
}

}  // namespace

namespace detail {

void write_file_in_place(const std::filesystem::path& path, const std::filesystem::path& name,
                         const std::function<void(std::ostream&)>& write) {
    FdGuard fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)};
    if (fd.fd < 0) throw_write_error(name, errno);
    write_to_descriptor(fd, name, write, nullptr);
}

}  // namespace detail

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write,
                           const std::atomic<bool>* cancel) {
    const std::filesystem::path directory = path.parent_path();
    // A fresh file under an unpredictable name: O_EXCL fails on anything already there, a
    // planted symbolic link included, so nothing outside the directory can be written through it.
    std::filesystem::path temporary;
    FdGuard fd{-1};
    for (int attempt = 0; fd.fd < 0; ++attempt) {
        std::string temporary_name = ".";  // appended, not '+': GCC 12 -Wrestrict false positive
        temporary_name.append(path.filename().string());
        temporary_name.append(".tmp-");
        temporary_name.append(random_suffix());
        temporary =
            directory.empty() ? std::filesystem::path(temporary_name) : directory / temporary_name;
        fd.fd =
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd.fd < 0 && (errno != EEXIST || attempt >= 100)) throw_write_error(path, errno);
    }
    try {
        write_to_descriptor(fd, path, write, cancel);
        if (::rename(temporary.c_str(), path.c_str()) != 0) throw_write_error(path, errno);
    } catch (...) {
        // Ours: created by the open above (O_EXCL), so removing it removes nothing of anyone's.
        ::unlink(temporary.c_str());
        throw;
    }
    // Best effort: make the rename itself durable.
    const int dir_fd =
        ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
    }
}

void create_output_directory(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (!error && !std::filesystem::is_directory(path, error) && !error) {
        error = std::make_error_code(std::errc::not_a_directory);
    }
    if (error) {
        throw OutputError("cannot create directory " + quoted_path(path) + ": " + error.message());
    }
}

}  // namespace sib
