#include "sib/svg.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace sib::svg {

namespace {

/// A pixel coordinate with one decimal, locale-independent.
std::string px(double v) {
    if (!std::isfinite(v)) v = 0;
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1).ptr;
    std::string s(buf, end);
    if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
    return s == "-0" ? "0" : s;
}

/// The CSS class of series i: s0..s7, then again from s0. (Built by appending: GCC 12 warns
/// falsely, -Wrestrict, about "literal" + std::string.)
std::string series_class(std::size_t i) {
    std::string c = "s";
    c += std::to_string(i % 8);
    return c;
}

/// Chart geometry shared by every chart: the plot area inside the margins (pixels).
constexpr double chart_width = 720, chart_height = 260;
constexpr double left = 96, right = 16, top = 28, bottom = 40;

/// Maps [d0, d1] (data) onto [p0, p1] (pixels); a zero-width domain maps to the middle.
struct Scale {
    double d0, d1, p0, p1;
    double operator()(double v) const {
        if (d1 == d0) return (p0 + p1) / 2;
        return p0 + (v - d0) / (d1 - d0) * (p1 - p0);
    }
};

/// [lo, hi] widened to round ticks; a single value gets a little room around it.
std::pair<double, double> padded(double lo, double hi) {
    if (!(lo < hi)) {
        const double room = lo == 0 ? 1 : std::abs(lo) * 0.1;
        return {lo - room, hi + room};
    }
    return {lo, hi};
}

/// Horizontal value axis at the bottom of the plot area, with ticks and labels.
void x_axis(Canvas& c, const Scale& x, const Format& format) {
    const double y = c.height() - bottom;
    c.line(left, y, c.width() - right, y, "axis");
    for (double t : nice_ticks(x.d0, x.d1, 6)) {
        c.line(x(t), y, x(t), y + 4, "axis");
        c.text(x(t), y + 16, format(t), "tick", "middle");
    }
}

/// Vertical value axis at the left of the plot area, with grid lines.
void y_axis(Canvas& c, const Scale& y, const Format& format) {
    for (double t : nice_ticks(y.d0, y.d1, 5)) {
        c.line(left, y(t), c.width() - right, y(t), "grid");
        c.text(left - 6, y(t) + 4, format(t), "tick", "end");
    }
    c.line(left, top, left, c.height() - bottom, "axis");
}

/// Legend entries along the top: a swatch in the series' class and its name.
void legend(Canvas& c, const std::vector<std::string>& names) {
    double x = left;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string cls = series_class(i);
        c.rect(x, 8, 12, 10, "swatch " + cls);
        c.text(x + 16, 17, names[i], "legend");
        x += 28 + 7.0 * static_cast<double>(std::min<std::size_t>(names[i].size(), 40));
    }
}

std::string share_format(double v) {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, v * 100, std::chars_format::fixed,
                                   v * 100 < 10 && v > 0 ? 1 : 0)
                         .ptr;
    return std::string(buf, end) + "%";
}

std::pair<double, double> range_of(std::span<const double> values) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : values)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (lo > hi) return {0, 0};
    return {lo, hi};
}

/// Shares of `values` in each of `bins` equal bins over [lo, hi] (the last bin closed).
std::vector<double> bin_shares(std::span<const double> values, double lo, double hi,
                               std::size_t bins) {
    std::vector<double> counts(bins, 0.0);
    if (values.empty()) return counts;
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        auto b = hi > lo
                     ? static_cast<std::size_t>((v - lo) / (hi - lo) * static_cast<double>(bins))
                     : 0;
        counts[std::min(b, bins - 1)] += 1;
    }
    for (double& n : counts) n /= static_cast<double>(values.size());
    return counts;
}

constexpr std::size_t histogram_bins = 40;

void shade_region(Canvas& c, const Scale& x, std::optional<double> shade_below,
                  const std::string& shade_label) {
    if (!shade_below || *shade_below <= x.d0) return;
    const double to = std::min(x(*shade_below), x.p1);
    c.rect(left, top, to - left, c.height() - bottom - top, "loss-region");
    if (!shade_label.empty()) c.text(left + 4, top + 12, shade_label, "loss-label");
}

void draw_markers(Canvas& c, const Scale& x, const std::vector<Marker>& markers) {
    // Labels alternate between two rows so that close markers (median and mean) stay legible.
    for (std::size_t i = 0; i < markers.size(); ++i) {
        const double mx = x(markers[i].x);
        c.line(mx, top, mx, c.height() - bottom, "marker");
        c.text(mx + 3, top + 24 + 12 * static_cast<double>(i % 2), markers[i].label,
               "marker-label");
    }
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
                    break;
                out += ch;
        }
    }
    return out;
}

std::vector<double> nice_ticks(double lo, double hi, int wanted) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
    const double rough = (hi - lo) / std::max(1, wanted);
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    double step = power;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * power >= rough) {
            step = m * power;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

Canvas::Canvas(std::string id, double width, double height, std::string description)
    : id_(std::move(id)), description_(std::move(description)), width_(width), height_(height) {}

void Canvas::rect(double x, double y, double w, double h, std::string_view css_class) {
    body_ += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(0.0, w)) +
             "\" height=\"" + px(std::max(0.0, h)) + "\" class=\"" + escape(css_class) + "\"/>";
}

void Canvas::line(double x1, double y1, double x2, double y2, std::string_view css_class) {
    body_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
             px(y2) + "\" class=\"" + escape(css_class) + "\"/>";
}

namespace {
std::string points_of(std::span<const double> xy) {
    std::string points;
    for (std::size_t i = 0; i + 1 < xy.size(); i += 2) {
        if (i) points += ' ';
        points += px(xy[i]);
        points += ',';
        points += px(xy[i + 1]);
    }
    return points;
}
}  // namespace

void Canvas::polyline(std::span<const double> xy, std::string_view css_class) {
    body_ += "<polyline points=\"" + points_of(xy) + "\" class=\"" + escape(css_class) + "\"/>";
}

void Canvas::polygon(std::span<const double> xy, std::string_view css_class) {
    body_ += "<polygon points=\"" + points_of(xy) + "\" class=\"" + escape(css_class) + "\"/>";
}

void Canvas::text(double x, double y, std::string_view content, std::string_view css_class,
                  std::string_view anchor) {
    body_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" class=\"" + escape(css_class) +
             "\" text-anchor=\"" + escape(anchor) + "\">" + escape(content) + "</text>";
}

std::string Canvas::str() const {
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" + escape(id_) +
           "\" class=\"chart\" viewBox=\"0 0 " + px(width_) + " " + px(height_) + "\" width=\"" +
           px(width_) + "\" height=\"" + px(height_) + "\" role=\"img\"><title>" +
           escape(description_) + "</title>" + body_ + "</svg>";
}

std::string histogram(const std::string& id, const std::string& description,
                      std::span<const double> values, const Format& format,
                      const std::vector<Marker>& markers, std::optional<double> shade_below,
                      const std::string& shade_label) {
    Canvas c(id, chart_width, chart_height, description);
    auto [lo, hi] = range_of(values);
    std::tie(lo, hi) = padded(lo, hi);
    const auto shares = bin_shares(values, lo, hi, histogram_bins);
    const double top_share = std::max(*std::max_element(shares.begin(), shares.end()), 1e-12);
    const Scale x{lo, hi, left, chart_width - right};
    const Scale y{0, top_share * 1.1, chart_height - bottom, top};
    shade_region(c, x, shade_below, shade_label);
    y_axis(c, y, share_format);
    const double width = (x.p1 - x.p0) / static_cast<double>(histogram_bins);
    for (std::size_t b = 0; b < histogram_bins; ++b) {
        if (shares[b] <= 0) continue;
        const double bin_end = lo + (hi - lo) * static_cast<double>(b + 1) / histogram_bins;
        const bool loss = shade_below && bin_end <= *shade_below;
        c.rect(x.p0 + width * static_cast<double>(b), y(shares[b]), width - 1, y.p0 - y(shares[b]),
               loss ? "bar loss" : "bar");
    }
    draw_markers(c, x, markers);
    x_axis(c, x, format);
    return c.str();
}

std::string quantile_strip(const std::string& id, const std::string& description,
                           const std::array<double, 5>& q, const Format& format,
                           std::optional<double> shade_below, const std::string& shade_label) {
    Canvas c(id, chart_width, 140, description);
    const auto [lo, hi] = padded(q[0], q[4]);
    const double room = (hi - lo) * 0.05;
    const Scale x{lo - room, hi + room, left, chart_width - right};
    shade_region(c, x, shade_below, shade_label);
    const double mid = (top + c.height() - bottom) / 2 + 6;
    c.line(x(q[0]), mid, x(q[4]), mid, "whisker");
    c.rect(x(q[1]), mid - 16, x(q[3]) - x(q[1]), 32, "box");
    c.line(x(q[2]), mid - 16, x(q[2]), mid + 16, "median");
    draw_markers(c, x, {{"P5 " + format(q[0]), q[0]}, {"P95 " + format(q[4]), q[4]}});
    x_axis(c, x, format);
    return c.str();
}

std::string overlaid_histograms(const std::string& id, const std::string& description,
                                const std::vector<Distribution>& series, const Format& format) {
    Canvas c(id, chart_width, chart_height, description);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series) {
        const auto [l, h] = range_of(s.values);
        lo = std::min(lo, l);
        hi = std::max(hi, h);
    }
    if (lo > hi) lo = hi = 0;
    std::tie(lo, hi) = padded(lo, hi);
    std::vector<std::vector<double>> shares;
    double top_share = 1e-12;
    for (const auto& s : series) {
        shares.push_back(bin_shares(s.values, lo, hi, histogram_bins));
        top_share =
            std::max(top_share, *std::max_element(shares.back().begin(), shares.back().end()));
    }
    const Scale x{lo, hi, left, chart_width - right};
    const Scale y{0, top_share * 1.1, chart_height - bottom, top};
    y_axis(c, y, share_format);
    std::vector<std::string> names;
    for (std::size_t s = 0; s < series.size(); ++s) {
        names.push_back(series[s].name);
        // A step outline: up and down at each bin edge.
        std::vector<double> xy = {x.p0, y.p0};
        for (std::size_t b = 0; b < histogram_bins; ++b) {
            const double x0 = x(lo + (hi - lo) * static_cast<double>(b) / histogram_bins);
            const double x1 = x(lo + (hi - lo) * static_cast<double>(b + 1) / histogram_bins);
            xy.insert(xy.end(), {x0, y(shares[s][b]), x1, y(shares[s][b])});
        }
        xy.insert(xy.end(), {x.p1, y.p0});
        c.polygon(xy, "area " + series_class(s));
        c.polyline(xy, "outline " + series_class(s));
    }
    legend(c, names);
    x_axis(c, x, format);
    return c.str();
}

std::string bars(const std::string& id, const std::string& description,
                 const std::vector<Bar>& rows, const Format& format, bool from_zero) {
    constexpr double row_height = 30;
    const double height = top + bottom + row_height * static_cast<double>(rows.size());
    // Labels need more room on the left than values do.
    constexpr double label_room = 220;
    Canvas c(id, chart_width, height, description);
    double lo = from_zero || rows.empty() ? 0 : rows.front().value, hi = lo;
    for (const auto& r : rows) {
        lo = std::min({lo, r.from, r.value, r.interval ? r.interval->first : r.value});
        hi = std::max({hi, r.from, r.value, r.interval ? r.interval->second : r.value});
    }
    std::tie(lo, hi) = padded(lo, hi);
    const Scale x{lo, hi, label_room, chart_width - right - 70};
    for (double t : nice_ticks(lo, hi, 5)) {
        c.line(x(t), top, x(t), height - bottom, "grid");
        c.text(x(t), height - bottom + 16, format(t), "tick", "middle");
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const double y0 = top + row_height * static_cast<double>(i);
        const double from = x(std::min(r.from, r.value)), to = x(std::max(r.from, r.value));
        const std::size_t series = r.series >= 0 ? static_cast<std::size_t>(r.series) : i;
        c.rect(from, y0 + 6, std::max(1.0, to - from), row_height - 12,
               "bar " + series_class(series));
        if (r.interval) {
            const double mid = y0 + row_height / 2;
            c.line(x(r.interval->first), mid, x(r.interval->second), mid, "whisker");
            c.line(x(r.interval->first), mid - 6, x(r.interval->first), mid + 6, "whisker");
            c.line(x(r.interval->second), mid - 6, x(r.interval->second), mid + 6, "whisker");
        }
        c.text(label_room - 8, y0 + row_height / 2 + 4, r.label, "label", "end");
        const double end = r.interval ? std::max(to, x(r.interval->second)) : to;
        c.text(end + 6, y0 + row_height / 2 + 4, format(r.value), "value");
    }
    if (lo <= 0 && hi >= 0) c.line(x(0), top, x(0), height - bottom, "axis");
    return c.str();
}

std::string points_chart(const std::string& id, const std::string& description,
                         const std::vector<ErrorPoint>& points, const Format& x_format,
                         const Format& y_format, const Reference& across, const Reference& down) {
    Canvas c(id, chart_width, chart_height, description);
    double x_lo = down.value, x_hi = down.value, y_lo = across.value, y_hi = across.value;
    if (down.interval) {
        x_lo = std::min(x_lo, down.interval->first);
        x_hi = std::max(x_hi, down.interval->second);
    }
    for (const auto& p : points) {
        x_lo = std::min(x_lo, p.x);
        x_hi = std::max(x_hi, p.x);
        y_lo = std::min({y_lo, p.y, p.low});
        y_hi = std::max({y_hi, p.y, p.high});
    }
    std::tie(x_lo, x_hi) = padded(x_lo, x_hi);
    std::tie(y_lo, y_hi) = padded(y_lo, y_hi);
    // A little room inside the axes, so that the ends of the interval searched stay visible.
    const Scale x{x_lo, x_hi, left + 12, chart_width - right - 12};
    const Scale y{y_lo, y_hi, chart_height - bottom - 8, top + 8};
    y_axis(c, y, y_format);
    x_axis(c, x, x_format);
    if (down.interval) {
        const double from = x(down.interval->first), to = x(down.interval->second);
        c.rect(from, top, std::max(1.0, to - from), chart_height - bottom - top, "interval");
    }
    c.line(left, y(across.value), chart_width - right, y(across.value), "target");
    c.text(chart_width - right - 4, y(across.value) - 4, across.label, "marker-label", "end");
    c.line(x(down.value), top, x(down.value), chart_height - bottom, "marker");
    c.text(x(down.value) + 3, top + 12, down.label, "marker-label");
    for (const auto& p : points) {
        const double px = x(p.x);
        if (p.high > p.low) {
            c.line(px, y(p.low), px, y(p.high), "whisker");
            c.line(px - 4, y(p.low), px + 4, y(p.low), "whisker");
            c.line(px - 4, y(p.high), px + 4, y(p.high), "whisker");
        }
        c.rect(px - 3, y(p.y) - 3, 6, 6, "dot s0");
    }
    return c.str();
}

std::string lines(const std::string& id, const std::string& description,
                  const std::vector<double>& xs, const std::vector<std::string>& x_labels,
                  const std::vector<Band>& series, const Format& format) {
    Canvas c(id, chart_width, chart_height, description);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series)
        for (const auto* v : {&s.middle, &s.low, &s.high}) {
            const auto [l, h] = range_of(*v);
            if (v->empty()) continue;
            lo = std::min(lo, l);
            hi = std::max(hi, h);
        }
    if (lo > hi) lo = hi = 0;
    std::tie(lo, hi) = padded(lo, hi);
    const auto [x_lo, x_hi] = padded(xs.empty() ? 0 : xs.front(), xs.empty() ? 0 : xs.back());
    const Scale x{x_lo, x_hi, left + 8, chart_width - right - 8};
    const Scale y{lo, hi, chart_height - bottom, top};
    y_axis(c, y, format);
    const double y_base = chart_height - bottom;
    c.line(left, y_base, chart_width - right, y_base, "axis");
    // At most about twelve x labels, evenly spaced.
    const std::size_t every = std::max<std::size_t>(1, (xs.size() + 11) / 12);
    for (std::size_t i = 0; i < xs.size(); i += every) {
        c.line(x(xs[i]), y_base, x(xs[i]), y_base + 4, "axis");
        c.text(x(xs[i]), y_base + 16, i < x_labels.size() ? x_labels[i] : "", "tick", "middle");
    }
    std::vector<std::string> names;
    for (std::size_t s = 0; s < series.size(); ++s) {
        const auto& b = series[s];
        const std::string cls = series_class(s);
        names.push_back(b.name);
        if (b.low.size() == xs.size() && b.high.size() == xs.size()) {
            std::vector<double> xy;
            for (std::size_t i = 0; i < xs.size(); ++i)
                xy.insert(xy.end(), {x(xs[i]), y(b.high[i])});
            for (std::size_t i = xs.size(); i-- > 0;) xy.insert(xy.end(), {x(xs[i]), y(b.low[i])});
            c.polygon(xy, "band " + cls);
        }
        std::vector<double> xy;
        for (std::size_t i = 0; i < xs.size() && i < b.middle.size(); ++i)
            xy.insert(xy.end(), {x(xs[i]), y(b.middle[i])});
        c.polyline(xy, "line " + cls);
        if (xs.size() <= 24)
            for (std::size_t i = 0; i + 1 < xy.size(); i += 2)
                c.rect(xy[i] - 2, xy[i + 1] - 2, 4, 4, "dot " + cls);
    }
    if (lo < 0 && hi > 0) c.line(left, y(0), chart_width - right, y(0), "axis");
    legend(c, names);
    return c.str();
}

std::string stacked_columns(const std::string& id, const std::string& description,
                            const std::vector<std::string>& x_labels,
                            const std::vector<Columns>& series, const Format& format) {
    Canvas c(id, chart_width, chart_height, description);
    const std::size_t n = x_labels.size();
    std::vector<double> up(n, 0.0), down(n, 0.0);
    for (const auto& s : series)
        for (std::size_t i = 0; i < n && i < s.values.size(); ++i)
            (s.values[i] >= 0 ? up[i] : down[i]) += s.values[i];
    double lo = 0, hi = 0;
    for (std::size_t i = 0; i < n; ++i) {
        lo = std::min(lo, down[i]);
        hi = std::max(hi, up[i]);
    }
    std::tie(lo, hi) = padded(lo, hi);
    const Scale y{lo, hi, chart_height - bottom, top};
    y_axis(c, y, format);
    const double slot =
        (chart_width - right - left) / static_cast<double>(std::max<std::size_t>(n, 1));
    std::fill(up.begin(), up.end(), 0.0);
    std::fill(down.begin(), down.end(), 0.0);
    std::vector<std::string> names;
    for (std::size_t s = 0; s < series.size(); ++s) {
        names.push_back(series[s].name);
        for (std::size_t i = 0; i < n && i < series[s].values.size(); ++i) {
            const double v = series[s].values[i];
            if (v == 0) continue;
            double& base = v > 0 ? up[i] : down[i];
            const double y0 = y(base), y1 = y(base + v);
            c.rect(left + slot * static_cast<double>(i) + slot * 0.15, std::min(y0, y1), slot * 0.7,
                   std::max(1.0, std::abs(y1 - y0)), "bar " + series_class(s));
            base += v;
        }
    }
    c.line(left, y(0), chart_width - right, y(0), "axis");
    const std::size_t every = std::max<std::size_t>(1, (n + 11) / 12);
    for (std::size_t i = 0; i < n; i += every)
        c.text(left + slot * (static_cast<double>(i) + 0.5), chart_height - bottom + 16,
               x_labels[i], "tick", "middle");
    legend(c, names);
    return c.str();
}

}  // namespace sib::svg
