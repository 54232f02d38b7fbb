// The HTML report (--report): well-formed XHTML with no script or fetch, every chart present and
// drawn, numbers matching the CSV files of the same run, hostile names escaped, and no file left
// by a run that fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "cli_helpers.hpp"
#include "sib/csv.hpp"
#include "sib/load.hpp"
#include "sib/report_html.hpp"
#include "sib/stats.hpp"
#include "sib/svg.hpp"

using namespace sib::test;

namespace {

/// One XML element: name, attributes, children and its own text (entities decoded).
struct Element {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::vector<std::unique_ptr<Element>> children;
    std::string text;

    std::string attribute(const std::string& key) const {
        const auto it = attributes.find(key);
        return it == attributes.end() ? "" : it->second;
    }
    /// Every element below (and including) this one, depth first.
    void collect(std::vector<const Element*>& out) const {
        out.push_back(this);
        for (const auto& c : children) c->collect(out);
    }
    /// The text of this element and everything below it.
    std::string all_text() const {
        std::string t = text;
        for (const auto& c : children) t += c->all_text();
        return t;
    }
};

/// A strict reader of the XML that the report writes: a prolog of <!DOCTYPE ...> only, then one
/// root element. Tags must nest, attributes be quoted and unique, '&' start one of the five
/// named entities or a numeric one, '<' never appear in text. Any violation fails the test.
class XmlReader {
  public:
    explicit XmlReader(std::string text) : s_(std::move(text)) {}

    std::unique_ptr<Element> document() {
        skip_space();
        if (s_.compare(i_, 9, "<!DOCTYPE") == 0) {
            const auto end = s_.find('>', i_);
            REQUIRE(end != std::string::npos);
            i_ = end + 1;
        }
        skip_space();
        auto root = element();
        skip_space();
        REQUIRE_MESSAGE(i_ == s_.size(), "content after the root element at " << i_);
        return root;
    }

  private:
    void skip_space() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    std::string name() {
        const auto start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '-' || s_[i_] == ':' || s_[i_] == '_'))
            ++i_;
        REQUIRE_MESSAGE(i_ > start, "a name expected at " << start);
        return s_.substr(start, i_ - start);
    }
    std::string decoded(const std::string& raw) {
        std::string out;
        for (std::size_t k = 0; k < raw.size(); ++k) {
            REQUIRE_MESSAGE(raw[k] != '<', "'<' in text or attribute near " << i_);
            if (raw[k] != '&') {
                out += raw[k];
                continue;
            }
            const auto semi = raw.find(';', k);
            REQUIRE_MESSAGE(semi != std::string::npos, "unterminated entity near " << i_);
            const std::string entity = raw.substr(k + 1, semi - k - 1);
            static const std::map<std::string, std::string> named = {
                {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
            if (named.count(entity)) {
                out += named.at(entity);
            } else {
                REQUIRE_MESSAGE((entity.size() > 1 && entity[0] == '#'),
                                "unknown entity &" << entity << ";");
                const long code = std::stol(entity.substr(1));
                REQUIRE(code < 128);  // the report writes only &#39;
                out += static_cast<char>(code);
            }
            k = semi;
        }
        return out;
    }
    std::unique_ptr<Element> element() {
        REQUIRE_MESSAGE(s_[i_] == '<', "an element expected at " << i_);
        ++i_;
        auto e = std::make_unique<Element>();
        e->name = name();
        for (;;) {
            skip_space();
            REQUIRE(i_ < s_.size());
            if (s_.compare(i_, 2, "/>") == 0) {
                i_ += 2;
                return e;
            }
            if (s_[i_] == '>') {
                ++i_;
                break;
            }
            const std::string key = name();
            REQUIRE_MESSAGE(s_[i_] == '=', "attribute " << key << " without a value");
            ++i_;
            const char quote = s_[i_];
            REQUIRE_MESSAGE((quote == '"' || quote == '\''), "unquoted attribute " << key);
            const auto end = s_.find(quote, i_ + 1);
            REQUIRE(end != std::string::npos);
            REQUIRE_MESSAGE(e->attributes.count(key) == 0, "duplicate attribute " << key);
            e->attributes[key] = decoded(s_.substr(i_ + 1, end - i_ - 1));
            i_ = end + 1;
        }
        for (;;) {
            const auto lt = s_.find('<', i_);
            REQUIRE_MESSAGE(lt != std::string::npos, "<" << e->name << "> is never closed");
            e->text += decoded(s_.substr(i_, lt - i_));
            i_ = lt;
            if (s_.compare(i_, 2, "</") == 0) {
                i_ += 2;
                const std::string closing = name();
                REQUIRE_MESSAGE(closing == e->name,
                                "</" << closing << "> closes <" << e->name << ">");
                REQUIRE(s_[i_] == '>');
                ++i_;
                return e;
            }
            e->children.push_back(element());
        }
    }
    std::string s_;
    std::size_t i_ = 0;
};

std::unique_ptr<Element> read_page(const std::string& path) {
    return XmlReader(read_file(path)).document();
}

std::vector<const Element*> all_elements(const Element& root) {
    std::vector<const Element*> out;
    root.collect(out);
    return out;
}

/// The <svg class="chart"> with this id, or the test fails.
const Element& chart(const Element& root, const std::string& id) {
    for (const Element* e : all_elements(root))
        if (e->name == "svg" && e->attribute("id") == id) {
            CHECK(e->attribute("class") == "chart");
            return *e;
        }
    FAIL("no chart '" << id << "'");
    return root;
}

/// How many drawn marks (bars, lines, bands) of this class a chart holds.
int marks(const Element& svg, const std::string& element, const std::string& css_class) {
    int n = 0;
    for (const Element* e : all_elements(svg)) {
        // Class lists are space-separated; padded with spaces so that a whole word matches.
        std::string classes = " ";
        classes += e->attribute("class");
        classes += ' ';
        std::string word = " ";
        word += css_class;
        word += ' ';
        if (e->name == element && classes.find(word) != std::string::npos) ++n;
    }
    return n;
}

/// Self-contained: no script, no style sheet or image or font from elsewhere, XHTML namespace.
void check_self_contained(const Element& root) {
    CHECK(root.name == "html");
    CHECK(root.attribute("xmlns") == "http://www.w3.org/1999/xhtml");
    for (const Element* e : all_elements(root)) {
        CHECK_MESSAGE(e->name != "script", "a script element");
        CHECK_MESSAGE(e->name != "link", "a link element");
        CHECK_MESSAGE(e->name != "img", "an img element");
        // Not a structured binding: clang 14 cannot capture one in doctest's CHECK_MESSAGE.
        for (const auto& attribute : e->attributes) {
            const std::string& key = attribute.first;
            const std::string& value = attribute.second;
            if (key == "xmlns") continue;
            CHECK_MESSAGE(key.substr(0, 2) != "on", "event handler " << key);
            CHECK_MESSAGE(value.find("://") == std::string::npos, key << "=" << value);
        }
    }
    // Nothing in the style sheet fetches either.
    for (const Element* e : all_elements(root))
        if (e->name == "style") {
            CHECK(e->text.find("url(") == std::string::npos);
            CHECK(e->text.find("@import") == std::string::npos);
            CHECK(e->text.find("@media print") != std::string::npos);
        }
}

/// Every tagged figure of the page against summary.csv: returns how many were compared.
int check_against_summary(const Element& root, const Table& summary) {
    int compared = 0;
    for (const Element* e : all_elements(root)) {
        const std::string metric = e->attribute("data-metric");
        if (metric.empty()) continue;
        const std::string stat = e->attribute("data-stat");
        CHECK_MESSAGE(e->attribute("data-value") == cell(summary, metric, stat),
                      metric << " " << stat);
        ++compared;
    }
    return compared;
}

}  // namespace

TEST_CASE("run --report: XHTML with every chart, figures as in summary.csv") {
    TempDir dir;
    const std::string page = dir / "peterborough.html";
    const Cli r = sibsim({"run", peterborough, "-n", "3000", "-j", "2", "-o", dir / "out",
                          "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const auto root = read_page(page);
    check_self_contained(*root);

    // Histograms of every trial (exact quantiles keep the values): about 40 bins, some of them
    // in the loss colour for the multiple and the IRR; four markers on total payments.
    const Element& payments = chart(*root, "payments-histogram");
    CHECK(marks(payments, "rect", "bar") >= 10);
    CHECK(marks(payments, "line", "marker") == 4);
    CHECK(marks(chart(*root, "investors-multiple"), "rect", "loss") >= 1);
    CHECK(marks(chart(*root, "investors-multiple"), "rect", "loss-region") == 1);
    CHECK(marks(chart(*root, "investors-irr"), "rect", "loss") >= 1);
    // One bar per payer, one per scope of each group rule (two cohorts and the pooled rule).
    CHECK(marks(chart(*root, "payer-net-cost"), "rect", "bar") == 2);
    CHECK(marks(chart(*root, "trigger-probability"), "rect", "bar") == 3);
    // Fan chart: a band and a median line for each party with flows (two payers, investors).
    const Element& fan = chart(*root, "cumulative-cashflows");
    CHECK(marks(fan, "polygon", "band") == 3);
    CHECK(marks(fan, "polyline", "line") == 3);

    const Table summary = read_csv(dir.path() / "out" / "summary.csv");
    // mean, se, p5, p50 and p95 of every metric.
    CHECK(check_against_summary(*root, summary) == 5 * static_cast<int>(summary.size() - 1));

    // The marker labels show summary.csv's figures for people.
    const double median = number(cell(summary, "payments.total", "p50"));
    CHECK(payments.all_text().find("median " + sib::format_money(median, "GBP")) !=
          std::string::npos);

    // Provenance: the scenario's SHA-256, the seed and trials as in run.csv.
    const Table provenance = read_csv(dir.path() / "out" / "run.csv");
    const std::string text = root->all_text();
    CHECK(text.find(row_of(provenance, "scenario_sha256")[1]) != std::string::npos);
    CHECK(text.find("3000 trials, seed 1") != std::string::npos);
    // Key terms name the rules and their thresholds.
    CHECK(text.find("from 10.0% improvement") != std::string::npos);
    CHECK(text.find("net of cohort-trigger") != std::string::npos);
}

TEST_CASE("run --report: without -o, and with the quantile sketch") {
    TempDir dir;
    const std::string page = dir / "r.html";
    const Cli r = sibsim(
        {"run", peterborough, "-n", "2000", "--quantiles", "sketch", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"r.html"});
    const auto root = read_page(page);
    check_self_contained(*root);
    // No per-trial values: each distribution is drawn from its quantiles (a box, whiskers).
    const Element& payments = chart(*root, "payments-histogram");
    CHECK(marks(payments, "rect", "box") == 1);
    CHECK(marks(payments, "rect", "bar") == 0);
    CHECK(marks(chart(*root, "investors-irr"), "rect", "box") == 1);
    // The fan chart needs only the cash-flow sample, kept whatever the quantiles.
    CHECK(marks(chart(*root, "cumulative-cashflows"), "polygon", "band") == 3);
}

TEST_CASE("report: names with markup and accents are escaped, not interpreted") {
    TempDir dir;
    std::string text = read_file(peterborough);
    const std::string hostile = "A & B <script>alert('x')</script> \"Ministère\"";
    text = replace_once(text, "name: Peterborough SIB (two cohorts)",
                        "name: 'A & B <script>alert(''x'')</script> \"Ministère\"'");
    text = replace_once(text, "- name: Ministry of Justice", "- name: \"Ministère <de> & Co\"");
    write_file(dir.path() / "hostile.yaml", text);
    const std::string page = dir / "hostile.html";
    const Cli r = sibsim({"run", dir / "hostile.yaml", "-n", "1000", "-o", dir / "out", "--report",
                          page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);  // no <script> element came through
    const Element* h1 = nullptr;
    for (const Element* e : all_elements(*root))
        if (e->name == "h1") h1 = e;
    REQUIRE(h1 != nullptr);
    CHECK(h1->text == hostile);
    CHECK(chart(*root, "payer-net-cost").all_text().find("Ministère <de> & Co") !=
          std::string::npos);
    CHECK(check_against_summary(*root, read_csv(dir.path() / "out" / "summary.csv")) > 0);
}

TEST_CASE("compare --report: overlaid distributions and paired differences as in compare.csv") {
    TempDir dir;
    const std::string page = dir / "compare.html";
    const std::string pooled =
        std::string(SIBSIM_SOURCE_DIR) + "/docs/examples/peterborough-pooled-only.yaml";
    const Cli r = sibsim({"compare", peterborough, pooled, "-n", "2000", "-o", dir / "out",
                          "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    const Element& payments = chart(*root, "compare-payments");
    CHECK(marks(payments, "polyline", "outline") == 2);
    CHECK(marks(chart(*root, "compare-irr"), "polyline", "outline") == 2);
    CHECK(marks(chart(*root, "diff-money-1"), "rect", "bar") >= 1);
    CHECK(marks(chart(*root, "diff-money-1"), "line", "whisker") >= 3);

    const Table csv = read_csv(dir.path() / "out" / "compare.csv");
    int compared = 0;
    for (const Element* e : all_elements(*root)) {
        const std::string metric = e->attribute("data-metric");
        if (metric.empty()) continue;
        const std::string stat = e->attribute("data-stat");
        const std::string column = stat.substr(0, 5) == "mean." ? stat.substr(5) : stat;
        CHECK_MESSAGE(e->attribute("data-value") == row_of(csv, metric)[column_of(csv, column)],
                      metric << " " << stat);
        ++compared;
    }
    CHECK(compared >= 3 * static_cast<int>(csv.size() - 1) - 10);
}

TEST_CASE("sweep --report: one chart per metric, one line per level of the second axis") {
    TempDir dir;
    const std::string page = dir / "sweep.html";
    const Cli r =
        sibsim({"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.05:0.15:0.05",
                "--vary", "payments.final-pooled.threshold=0.05,0.1", "--metrics",
                "payments.total,investors.irr", "-n", "1000", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    for (const char* id : {"sweep-0", "sweep-1"}) {
        const Element& svg = chart(*root, id);
        CHECK(marks(svg, "polyline", "line") == 2);
        CHECK(marks(svg, "polygon", "band") == 2);
        CHECK(marks(svg, "rect", "dot") == 6);
    }
    CHECK(root->all_text().find("payments.final-pooled.threshold = 0.1") != std::string::npos);
}

TEST_CASE("settle --report: the bill by period and payer, the investors' flows") {
    TempDir dir;
    const std::string page = dir / "settle.html";
    const Cli r = sibsim({"settle", augsburg, "--observed", observed_path("augsburg-20.yaml"), "-o",
                          dir / "out", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    CHECK(marks(chart(*root, "settle-bill"), "rect", "bar") >= 1);
    CHECK(marks(chart(*root, "settle-flows"), "rect", "bar") >= 2);
    CHECK(marks(chart(*root, "settle-cumulative"), "polyline", "line") == 1);
    const Table payments = read_csv(dir.path() / "out" / "payments.csv");
    double total = 0;
    for (std::size_t i = 1; i < payments.size(); ++i)
        total += number(payments[i][column_of(payments, "amount")]);
    REQUIRE(total > 0);
    bool found = false;
    for (const Element* e : all_elements(*root))
        if (e->attribute("data-metric") == "payments.total") {
            CHECK(number(e->attribute("data-value")) == doctest::Approx(total));
            found = true;
        }
    CHECK(found);
}

TEST_CASE("--report: no file when the input or the usage is wrong") {
    TempDir dir;
    const std::string page = dir / "r.html";
    Cli r = sibsim({"run", data_path("invalid/absurd-size.yaml"), "--report", page, "--quiet"});
    CHECK(r.status == 2);
    r = sibsim({"run", peterborough, "--report", "", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --report: the file name is empty\n");
    r = sibsim({"settle", augsburg, "--observed", observed_path("bad-unknown-cohort.yaml"),
                "--report", page, "--quiet"});
    CHECK(r.status == 2);
    r = sibsim({"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1",
                "--metrics", "no.such.metric", "--report", page, "--quiet"});
    CHECK(r.status == 2);
    // A report into a folder that does not exist fails before any trial, and the -o folder is
    // not created.
    r = sibsim({"run", peterborough, "-n", "100", "-o", dir / "out", "--report",
                dir / "missing/r.html", "--quiet"});
    CHECK(r.status == 1);
    CHECK(r.err.find("no directory") != std::string::npos);
    CHECK(entries_of(dir.path()).empty());
}

namespace {

/// The CSV row of `table` whose first two fields are `metric` and `input` (tornado.csv,
/// spider.csv, sobol.csv), or the test fails.
const Row& row_for(const Table& table, const std::string& metric, const std::string& input) {
    for (std::size_t i = 1; i < table.size(); ++i)
        if (table[i][0] == metric && table[i][1] == input) return table[i];
    FAIL("no row " << metric << ", " << input);
    return table.front();
}

/// Every tagged figure of a sensitivity page against the CSV files: a figure whose column is in
/// `first` is compared with it, any other with `second`. Returns how many were compared.
int check_sensitivity_figures(const Element& root, const Table& first, const Table& second) {
    int compared = 0;
    for (const Element* e : all_elements(root)) {
        const std::string metric = e->attribute("data-metric");
        if (metric.empty()) continue;
        const std::string column = e->attribute("data-stat");
        const bool in_first =
            std::find(first.front().begin(), first.front().end(), column) != first.front().end();
        const Table& table = in_first ? first : second;
        const Row& row = row_for(table, metric, e->attribute("data-input"));
        CHECK_MESSAGE(e->attribute("data-value") == row[column_of(table, column)],
                      metric << " " << column);
        ++compared;
    }
    return compared;
}

/// The labels of a bar chart's rows, top to bottom.
std::vector<std::string> bar_labels(const Element& svg) {
    std::vector<std::string> labels;
    for (const Element* e : all_elements(svg))
        if (e->name == "text" && e->attribute("class") == "label") labels.push_back(e->text);
    return labels;
}

}  // namespace

TEST_CASE("sensitivity --report: a tornado and a spider per metric, figures as in the CSV files") {
    TempDir dir;
    const std::string page = dir / "tornado.html";
    const std::string rikers = scenario_path("rikers.yaml");
    const Cli r = sibsim(
        {"sensitivity", rikers, "-n", "1000", "-o", dir / "out", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const auto root = read_page(page);
    check_self_contained(*root);
    const Table tornado = read_csv(dir.path() / "out" / "tornado.csv");
    const Table spider = read_csv(dir.path() / "out" / "spider.csv");
    const std::size_t inputs = 2;  // the bed-days effect and the adolescents' cohort size
    const std::size_t metrics = (tornado.size() - 1) / inputs;
    REQUIRE(metrics >= 2);
    for (std::size_t m = 0; m < metrics; ++m) {
        const Element& bars = chart(*root, "tornado-" + std::to_string(m));
        CHECK(marks(bars, "rect", "bar") == 2 * static_cast<int>(inputs));
        // Largest swing at the top, as tornado.csv orders the inputs.
        const std::vector<std::string> labels = bar_labels(bars);
        REQUIRE(labels.size() == 2 * inputs);
        CHECK(labels[0] == tornado[1 + m * inputs][1] + " at P10");
        CHECK(labels[2] == tornado[2 + m * inputs][1] + " at P10");
        const Element& lines = chart(*root, "spider-" + std::to_string(m));
        CHECK(marks(lines, "polyline", "line") == static_cast<int>(inputs));
        CHECK(marks(lines, "rect", "dot") == 5 * static_cast<int>(inputs));
    }
    // Per input and metric: tornado.csv's five figures and the base (mean_p50), and the five
    // means of spider.csv.
    CHECK(check_sensitivity_figures(*root, tornado, spider) ==
          11 * static_cast<int>(tornado.size() - 1));
    const std::string text = root->all_text();
    CHECK(text.find("1000 trials per run, seed 1") != std::string::npos);
    CHECK(text.find(row_of(read_csv(dir.path() / "out" / "run.csv"), "scenario_sha256")[1]) !=
          std::string::npos);
}

TEST_CASE("sensitivity --report: a tornado bar starts at the mean with its input at the median") {
    TempDir dir;
    const std::string page = dir / "t.html";
    const Cli r = sibsim({"sensitivity", peterborough, "-n", "1000", "--metrics", "investors.irr",
                          "-o", dir / "out", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    std::vector<const Element*> bars;
    for (const Element* e : all_elements(chart(*root, "tornado-0")))
        if (e->name == "rect" && e->attribute("class").substr(0, 4) == "bar ") bars.push_back(e);
    REQUIRE(bars.size() == 2);
    // The IRR falls as the effect rises: P10 above the base, P90 below; they meet at the base,
    // and the lengths are in the ratio of the differences of the means.
    const Table spider = read_csv(dir.path() / "out" / "spider.csv");
    const Row& row = row_for(spider, "investors.irr", "outcomes.reconviction.effect");
    const double p10 = number(row[column_of(spider, "mean_p10")]);
    const double p50 = number(row[column_of(spider, "mean_p50")]);
    const double p90 = number(row[column_of(spider, "mean_p90")]);
    REQUIRE(p10 > p50);
    REQUIRE(p50 > p90);
    const double high_x = number(bars[0]->attribute("x"));
    const double high_w = number(bars[0]->attribute("width"));
    const double low_x = number(bars[1]->attribute("x"));
    const double low_w = number(bars[1]->attribute("width"));
    CHECK(low_x + low_w == doctest::Approx(high_x).epsilon(0.001));
    CHECK(high_w / low_w == doctest::Approx((p10 - p50) / (p50 - p90)).epsilon(0.01));
}

TEST_CASE("sensitivity --method sobol --report: S1 and ST with whiskers, as in sobol.csv") {
    TempDir dir;
    const std::string page = dir / "sobol.html";
    const Cli r = sibsim({"sensitivity", scenario_path("rikers.yaml"), "--method", "sobol", "-n",
                          "256", "--metrics", "payments.total,investors.irr", "--report", page,
                          "-o", dir / "out", "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    for (const char* id : {"sobol-0", "sobol-1"}) {
        const Element& svg = chart(*root, id);
        CHECK(marks(svg, "rect", "bar") == 4);       // S1 and ST of two inputs
        CHECK(marks(svg, "line", "whisker") == 12);  // a whisker and two caps each
        CHECK(marks(svg, "rect", "s0") == 2);        // S1 in one colour, ST in the other
        CHECK(marks(svg, "rect", "s1") == 2);
    }
    const Table sobol = read_csv(dir.path() / "out" / "sobol.csv");
    CHECK(check_sensitivity_figures(*root, sobol, sobol) == 4 * static_cast<int>(sobol.size() - 1));
    CHECK(root->all_text().find("base sample 256 (1024 evaluations)") != std::string::npos);
}

TEST_CASE("sensitivity --report: payer names with markup are escaped") {
    TempDir dir;
    std::string text = read_file(peterborough);
    text = replace_once(text, "- name: Ministry of Justice", "- name: \"Ministère <de> & Co\"");
    write_file(dir.path() / "hostile.yaml", text);
    const std::string page = dir / "hostile.html";
    const Cli r = sibsim({"sensitivity", dir / "hostile.yaml", "-n", "500", "-o", dir / "out",
                          "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    bool found = false;
    for (const Element* e : all_elements(*root))
        found = found || (e->name == "h2" && e->text == "payer.Ministère <de> & Co.net_cost_pv");
    CHECK(found);
    const Table tornado = read_csv(dir.path() / "out" / "tornado.csv");
    CHECK(check_sensitivity_figures(*root, tornado, read_csv(dir.path() / "out" / "spider.csv")) ==
          11 * static_cast<int>(tornado.size() - 1));
}

TEST_CASE("solve --report: the evaluations, the target and the solution, as in the CSV files") {
    TempDir dir;
    const std::string page = dir / "solve.html";
    const Cli r = sibsim({"solve", peterborough, "--vary", "outcomes.reconviction.effect=-0.2:0",
                          "--target", "investors.multiple=1", "-n", "500", "-o", dir / "out",
                          "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    const auto root = read_page(page);
    check_self_contained(*root);
    const Table solve = read_csv(dir.path() / "out" / "solve.csv");
    const Table evaluations = read_csv(dir.path() / "out" / "evaluations.csv");
    const auto n = static_cast<int>(evaluations.size() - 1);
    REQUIRE(n >= 3);
    const Element& svg = chart(*root, "solve-search");
    CHECK(marks(svg, "rect", "dot") == n);
    CHECK(marks(svg, "line", "target") == 1);
    CHECK(marks(svg, "rect", "interval") == 1);
    CHECK(marks(svg, "line", "marker") == 1);
    CHECK(marks(svg, "line", "whisker") == 3 * n);  // every evaluation has an se above 0
    int compared = 0;
    for (const Element* e : all_elements(*root)) {
        if (e->attribute("data-metric").empty()) continue;
        CHECK(e->attribute("data-metric") == "investors.multiple");
        const std::string column = e->attribute("data-stat");
        const std::string evaluation = e->attribute("data-evaluation");
        const std::string expected =
            evaluation.empty() ? solve[1][column_of(solve, column)]
                               : row_of(evaluations, evaluation)[column_of(evaluations, column)];
        CHECK_MESSAGE(e->attribute("data-value") == expected, column << " " << evaluation);
        ++compared;
    }
    CHECK(compared == 4 + 3 * n);  // target, value, ci_lo, ci_hi; x, mean and se of each
    CHECK(root->all_text().find("500 trials each, seed 1") != std::string::npos);
}

TEST_CASE("sensitivity and solve --report: no file on a usage error, only the page without -o") {
    TempDir dir;
    const std::string page = dir / "r.html";
    Cli r = sibsim({"sensitivity", peterborough, "--report", "", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --report: the file name is empty\n");
    r = sibsim({"solve", peterborough, "--vary", "outcomes.reconviction.effect=-0.2:0", "--target",
                "investors.multiple=1", "--report", "", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --report: the file name is empty\n");
    r = sibsim({"sensitivity", peterborough, "--method", "sobol", "-n", "1000", "--report", page,
                "--quiet"});
    CHECK(r.status == 2);
    r = sibsim(
        {"sensitivity", peterborough, "--metrics", "no.such.metric", "--report", page, "--quiet"});
    CHECK(r.status == 2);
    r = sibsim({"solve", peterborough, "--vary", "outcomes.reconviction.effect=-0.2:0", "--target",
                "no.such.metric=1", "--report", page, "--quiet"});
    CHECK(r.status == 2);
    // Not bracketed: refused after the two ends ran, and still nothing written.
    r = sibsim({"solve", peterborough, "--vary", "outcomes.reconviction.effect=-0.2:0", "--target",
                "investors.multiple=100", "-n", "200", "--report", page, "--quiet"});
    CHECK(r.status == 2);
    CHECK(entries_of(dir.path()).empty());
    r = sibsim({"solve", peterborough, "--vary", "outcomes.reconviction.effect=-0.2:0", "--target",
                "investors.multiple=1", "-n", "200", "--report", page, "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"r.html"});
    read_page(page);
}

TEST_CASE("run keeps its cash-flow sample on request, every trial's flows in place") {
    const sib::Plan plan = sib::compile(sib::load_scenario_file(peterborough));
    sib::RunOptions options;
    options.trials = 3000;
    options.threads = 2;
    const sib::RunResult without = sib::run(plan, options);
    CHECK(without.cashflow_sample.empty());
    options.keep_cashflow_sample = true;
    const sib::RunResult result = sib::run(plan, options);
    REQUIRE(result.sampled_trials == 3000);
    const auto n = static_cast<std::size_t>(result.sampled_trials);
    REQUIRE(result.cashflow_sample.size() == n * result.cashflows.size());
    // Each flow's sampled values give cashflows.csv's P5 and P95 exactly and its mean (flows
    // the same in every trial, such as the fixed costs, included).
    int varying = 0;
    for (std::size_t f = 0; f < result.cashflows.size(); ++f) {
        std::vector<double> values(result.cashflow_sample.begin() + static_cast<long>(f * n),
                                   result.cashflow_sample.begin() + static_cast<long>((f + 1) * n));
        double sum = 0;
        for (double v : values) sum += v;
        std::array<double, 2> tails{};
        sib::select_nearest_ranks(values, std::array<double, 2>{0.05, 0.95}, tails);
        CHECK(tails[0] == result.cashflows[f].p5);
        CHECK(tails[1] == result.cashflows[f].p95);
        CHECK(sum / static_cast<double>(n) ==
              doctest::Approx(result.cashflows[f].mean).epsilon(1e-9));
        varying += tails[0] != tails[1];
    }
    CHECK(varying > 10);
    // The summary is the same with or without the sample kept.
    for (std::size_t f = 0; f < result.cashflows.size(); ++f)
        CHECK(result.cashflows[f].p95 == without.cashflows[f].p95);
}

TEST_CASE("svg bars start where told: the shape of a tornado chart") {
    // Two bars from a base value of 5: one down to 3, one up to 8.
    const std::string chart =
        sib::svg::bars("tornado", "a tornado", {{"low", 3, {}, 5}, {"high", 8, {}, 5}},
                       [](double v) { return sib::format_number(v); });
    const auto root = XmlReader(chart).document();
    std::vector<const Element*> bars;
    for (const Element* e : all_elements(*root))
        if (e->name == "rect" && e->attribute("class").substr(0, 4) == "bar ") bars.push_back(e);
    REQUIRE(bars.size() == 2);
    const double low_x = number(bars[0]->attribute("x"));
    const double low_end = low_x + number(bars[0]->attribute("width"));
    const double high_x = number(bars[1]->attribute("x"));
    const double high_end = high_x + number(bars[1]->attribute("width"));
    // The low bar ends where the high bar starts (the base), and 3 → 5 is 2/3 of 5 → 8.
    CHECK(low_end == doctest::Approx(high_x).epsilon(0.001));
    CHECK((low_end - low_x) / (high_end - high_x) == doctest::Approx(2.0 / 3).epsilon(0.01));
}

TEST_CASE("report numbers for people") {
    CHECK(sib::format_money(4798802.8, "GBP") == "£4.80m");
    CHECK(sib::format_money(-8707826.5, "GBP") == "−£8.71m");
    CHECK(sib::format_money(11700, "GBP") == "£11,700");
    CHECK(sib::format_money(7.5, "USD") == "$7.50");
    CHECK(sib::format_money(1.25e9, "CHF") == "CHF 1.25bn");
    CHECK(sib::format_money(-0.001, "EUR") == "€0.00");
    CHECK(sib::format_percent(0.3737) == "37.4%");
    CHECK(sib::format_percent(-0.2293130133) == "−22.9%");
    CHECK(sib::format_percent(0) == "0.0%");
    CHECK(sib::format_percent(-0.0004) == "0.0%");  // no sign on what rounds to zero
    CHECK(sib::svg::escape("a<b & \"c\" 'd'\x01") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;");
    CHECK(sib::svg::nice_ticks(0, 10, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
}
