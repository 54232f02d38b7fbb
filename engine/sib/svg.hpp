#pragma once
// A small SVG writer for the HTML report (docs/outputs.md, "report"): charts drawn as inline SVG
// elements, well-formed XML, styled by the page's CSS classes (s0..s7 for series colours), no
// script. Coordinates are pixels of the chart's viewBox; numbers are written with to_chars, never
// through a locale.
#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sib::svg {

/// `text` safe inside XML text and attribute values: & < > " ' as entities; control characters
/// that XML 1.0 forbids (all below U+0020 but tab, LF, CR) dropped. UTF-8 passes unchanged.
std::string escape(std::string_view text);

/// A number as shown to people on an axis or a label (money, percentages...).
using Format = std::function<std::string(double)>;

/// About `wanted` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int wanted);

/// Elements in pixel coordinates, written out as one <svg> with an id and class "chart".
class Canvas {
  public:
    Canvas(std::string id, double width, double height, std::string description);
    void rect(double x, double y, double w, double h, std::string_view css_class);
    void line(double x1, double y1, double x2, double y2, std::string_view css_class);
    /// An open line through the points (x0, y0, x1, y1, ...).
    void polyline(std::span<const double> xy, std::string_view css_class);
    /// A closed, filled shape through the points (x0, y0, x1, y1, ...).
    void polygon(std::span<const double> xy, std::string_view css_class);
    /// Text; `anchor` is start, middle or end.
    void text(double x, double y, std::string_view content, std::string_view css_class,
              std::string_view anchor = "start");
    /// The element, <svg ...>...</svg>.
    std::string str() const;

    double width() const { return width_; }
    double height() const { return height_; }

  private:
    std::string id_, description_, body_;
    double width_, height_;
};

/// A vertical line with a label over a distribution (P5, median, mean, P95).
struct Marker {
    std::string label;
    double x = 0;
};

/// A histogram of `values` in about 40 equal bins from their least to their largest value.
/// Bins whose values all lie below `shade_below` (when given) are drawn in the "loss" style;
/// `shade_label` then names that region (e.g. "loss: 37.4% of trials").
std::string histogram(const std::string& id, const std::string& description,
                      std::span<const double> values, const Format& format,
                      const std::vector<Marker>& markers, std::optional<double> shade_below = {},
                      const std::string& shade_label = "");

/// Without per-trial values: a box from P25 to P75, whiskers to P5 and P95 and the median, with
/// the same shading as histogram().
std::string quantile_strip(const std::string& id, const std::string& description,
                           const std::array<double, 5>& quantiles, const Format& format,
                           std::optional<double> shade_below = {},
                           const std::string& shade_label = "");

/// One named set of values for overlaid_histograms().
struct Distribution {
    std::string name;
    std::span<const double> values;
};

/// Distributions on one axis, common bins, each as an outline (share of its trials per bin).
std::string overlaid_histograms(const std::string& id, const std::string& description,
                                const std::vector<Distribution>& series, const Format& format);

/// One horizontal bar from `from` to `value`, with an optional interval drawn as a whisker.
struct Bar {
    std::string label;
    double value = 0;
    std::optional<std::pair<double, double>> interval;
    /// Where the bar starts: 0 for amounts; a tornado chart's bars start at the base value.
    double from = 0;
    /// The colour (series class s0..s7) when bars come in pairs (S1 and ST, low and high);
    /// -1: each row its own, in order.
    int series = -1;
};

/// Horizontal bars, each labelled with format(value), on one axis that includes 0 unless
/// `from_zero` is false (a tornado chart around a mean far from 0).
std::string bars(const std::string& id, const std::string& description,
                 const std::vector<Bar>& rows, const Format& format, bool from_zero = true);

/// One line over the x positions, with a band from `low` to `high` (both empty: no band).
struct Band {
    std::string name;
    std::vector<double> middle, low, high;
};

/// Lines with bands over x values; `x_labels` (one per x) label the axis. Used for the fan chart
/// (median, P5-P95 band) and for sweeps (mean, ±1.96 se).
std::string lines(const std::string& id, const std::string& description,
                  const std::vector<double>& x, const std::vector<std::string>& x_labels,
                  const std::vector<Band>& series, const Format& format);

/// One point of points_chart(): y at x, with a vertical error bar from `low` to `high`.
struct ErrorPoint {
    double x = 0, y = 0, low = 0, high = 0;
};

/// A labelled value drawn across a chart: a horizontal line (a target) or a vertical one (a
/// solution), with an optional interval shaded around it.
struct Reference {
    std::string label;
    double value = 0;
    std::optional<std::pair<double, double>> interval;
};

/// Points with error bars on a numeric x axis (`x_format`), a horizontal reference line at
/// `across.value` (y) and a vertical one at `down.value` (x), its interval shaded. Used by solve
/// (evaluations, target, solution).
std::string points_chart(const std::string& id, const std::string& description,
                         const std::vector<ErrorPoint>& points, const Format& x_format,
                         const Format& y_format, const Reference& across, const Reference& down);

/// One named series of column heights per x position, for stacked_columns().
struct Columns {
    std::string name;
    std::vector<double> values;
};

/// Columns per x position, the series stacked (positive values upwards from 0, negative ones
/// downwards).
std::string stacked_columns(const std::string& id, const std::string& description,
                            const std::vector<std::string>& x_labels,
                            const std::vector<Columns>& series, const Format& format);

}  // namespace sib::svg
