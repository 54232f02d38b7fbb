// Observed results for `settle` (SPEC section 13), YAML -> Observed. Part of the load stage: with
// load.cpp, the only files that see yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sib/load.hpp"

namespace sib {

namespace {

SourceLoc loc_of(const YAML::Node& n) { return {n.Mark().line + 1, n.Mark().column + 1}; }

class ObservedLoader {
public:
    explicit ObservedLoader(DiagnosticSink& sink) : sink_(sink) {}

    Observed load(const YAML::Node& root) {
        Observed observed;
        observed.file = sink_.file;
        if (!root.IsMap()) {
            sink_.error(loc_of(root), "", "expected a map with the key 'observed'");
            return observed;
        }
        for (const auto& entry : root) {
            const std::string key = entry.first.Scalar();
            if (key != "observed") {
                std::string message = "unknown key '" + key + "'";
                if (auto hint = closest_match(key, {"observed"}); !hint.empty()) message += "; did you mean '" + hint + "'?";
                sink_.error(loc_of(entry.first), key, message);
            }
        }
        const YAML::Node list = root["observed"];
        if (!list) {
            sink_.error(loc_of(root), "", "missing required key 'observed'");
            return observed;
        }
        if (!list.IsSequence()) {
            sink_.error(loc_of(list), "observed", "expected a list of observed results");
            return observed;
        }
        for (std::size_t i = 0; i < list.size(); ++i) observation(list[i], "observed[" + std::to_string(i) + "]", observed);
        return observed;
    }

private:
    void observation(const YAML::Node& n, const std::string& path, Observed& observed) {
        if (!n.IsMap()) {
            sink_.error(loc_of(n), path, "expected a map with cohort, outcome, participants and mean or successes");
            return;
        }
        static const std::vector<std::string> keys = {"cohort", "outcome", "participants", "mean", "successes",
                                                      "comparison_mean"};
        for (const auto& entry : n) {
            const std::string key = entry.first.Scalar();
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                std::string message = "unknown key '" + key + "'";
                if (auto hint = closest_match(key, keys); !hint.empty()) message += "; did you mean '" + hint + "'?";
                sink_.error(loc_of(entry.first), path + "." + key, message);
            }
        }
        Observation o;
        o.loc = loc_of(n);
        bool ok = true;
        for (const char* key : {"cohort", "outcome", "participants"})
            if (!n[key]) {
                sink_.error(o.loc, path, std::string("missing required key '") + key + "'");
                ok = false;
            }
        if (n["cohort"]) ok = text(n["cohort"], path + ".cohort", o.cohort) && ok;
        if (n["outcome"]) ok = text(n["outcome"], path + ".outcome", o.outcome) && ok;
        if (n["participants"]) {
            auto v = number(n["participants"], path + ".participants");
            if (v && (*v < 0 || *v != std::floor(*v) || *v > 1e7)) {
                sink_.error(loc_of(n["participants"]), path + ".participants",
                            "must be a whole number between 0 and 10000000");
                v.reset();
            }
            ok = v.has_value() && ok;
            o.participants = v.value_or(0);
        }
        if (n["mean"] && n["successes"]) {
            sink_.error(o.loc, path, "give either 'mean' or 'successes', not both");
            ok = false;
        } else if (!n["mean"] && !n["successes"]) {
            sink_.error(o.loc, path, "missing 'mean' (or 'successes' for a binary outcome)");
            ok = false;
        }
        if (n["mean"]) {
            o.mean = non_negative(n["mean"], path + ".mean");
            ok = o.mean.has_value() && ok;
        }
        if (n["successes"]) {
            o.successes = non_negative(n["successes"], path + ".successes");
            if (o.successes && *o.successes != std::floor(*o.successes)) {
                sink_.error(loc_of(n["successes"]), path + ".successes", "must be a whole number");
                o.successes.reset();
            }
            ok = o.successes.has_value() && ok;
        }
        if (n["comparison_mean"]) {
            o.comparison_mean = non_negative(n["comparison_mean"], path + ".comparison_mean");
            ok = o.comparison_mean.has_value() && ok;
        }
        if (ok) observed.observations.push_back(std::move(o));
    }

    bool text(const YAML::Node& n, const std::string& path, std::string& out) {
        if (!n.IsScalar() || n.Scalar().empty()) {
            sink_.error(loc_of(n), path, "expected a name");
            return false;
        }
        out = n.Scalar();
        return true;
    }

    std::optional<double> number(const YAML::Node& n, const std::string& path) {
        if (!n.IsScalar()) {
            sink_.error(loc_of(n), path, "expected a number");
            return std::nullopt;
        }
        std::string_view s = n.Scalar();
        if (!s.empty() && s.front() == '+') s.remove_prefix(1);
        double v = 0;
        auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (error != std::errc() || end != s.data() + s.size()) {
            sink_.error(loc_of(n), path, "expected a number, got '" + n.Scalar() + "'");
            return std::nullopt;
        }
        if (!std::isfinite(v)) {
            sink_.error(loc_of(n), path, "must be a finite number");
            return std::nullopt;
        }
        return v;
    }

    std::optional<double> non_negative(const YAML::Node& n, const std::string& path) {
        auto v = number(n, path);
        if (v && *v < 0) {
            sink_.error(loc_of(n), path, "must be at least 0");
            return std::nullopt;
        }
        return v;
    }

    DiagnosticSink& sink_;
};

}  // namespace

Observed load_observed(std::string_view text, const std::string& file) {
    DiagnosticSink sink{file, {}};
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        sink.error({1, 1}, "", "file is empty");
        sink.throw_if_any();
    }
    if (text.find('\0') != std::string_view::npos) {
        sink.error({1, 1}, "", "not a text file");
        sink.throw_if_any();
    }
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        sink.error({e.mark.line + 1, e.mark.column + 1}, "", e.msg);
        sink.throw_if_any();
    }
    Observed observed = ObservedLoader(sink).load(root);
    sink.throw_if_any();
    return observed;
}

Observed load_observed_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError({Diagnostic{path, {1, 1}, "", "cannot read file"}});
    std::ostringstream text;
    text << in.rdbuf();
    return load_observed(text.str(), path);
}

}  // namespace sib
