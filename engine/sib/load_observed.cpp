// The observed-results file for `settle` (load.hpp, docs/outputs.md): Loader::load_observed and
// the public load_observed and load_observed_file.
#include <utility>

#include "sib/load.hpp"
#include "sib/load_detail.hpp"

namespace sib {
namespace load_detail {

/// Observed results for `settle` (docs/outputs.md): only the file's own form is checked
/// here; settle_observed checks names and counts against the scenario.
Observed Loader::load_observed(const Node& root, const std::string& file) {
    Observed observed;
    observed.file = file;
    check_keys(root, "", Section::observed_file);
    const Node* list = require(root, "", "observed");
    if (!list || !expect_list(*list, "observed")) return observed;
    if (list->items.empty()) error(*list, "observed", "must have at least one entry");
    for (std::size_t i = 0; i < list->items.size(); ++i) {
        const Node& m = list->items[i];
        const std::string path = index_path("observed", i);
        if (!expect_map(m, path)) continue;
        check_keys(m, path, Section::observation);
        Observation o;
        o.loc = m.loc;
        if (const Node* n = require(m, path, "cohort"))
            if (auto v = name(*n, join(path, "cohort"))) o.cohort = *v;
        if (const Node* n = require(m, path, "outcome"))
            if (auto v = name(*n, join(path, "outcome"))) o.outcome = *v;
        if (const Node* n = require(m, path, "participants"))
            if (auto v = whole(*n, join(path, "participants"), 0, static_cast<long long>(max_size)))
                o.participants = static_cast<double>(*v);
        const Node* mean = m.find("mean");
        const Node* successes = m.find("successes");
        if (mean && successes)
            error(*successes, join(path, "successes"), "give mean or successes, not both");
        else if (!mean && !successes)
            error(m, path, "missing required key 'mean' or 'successes'");
        if (mean) o.mean = number(*mean, join(path, "mean"), between(0, max_count_mean));
        if (successes)
            if (auto v =
                    whole(*successes, join(path, "successes"), 0, static_cast<long long>(max_size)))
                o.successes = static_cast<double>(*v);
        if (const Node* n = m.find("comparison_mean"))
            o.comparison_mean =
                number(*n, join(path, "comparison_mean"), between(0, max_count_mean));
        observed.observations.push_back(std::move(o));
    }
    return observed;
}

}  // namespace load_detail

using namespace load_detail;

Observed load_observed(std::string_view text, const std::string& file) {
    DiagnosticSink sink;
    sink.file = file;
    Node root = parse_file(text, sink);
    drop_duplicate_keys(root, PathStep{}, sink);
    if (!root.is_map()) {
        sink.error(root.loc, "", "expected a map with the key 'observed', got " + describe(root));
        sink.throw_if_any();
    }
    Loader loader(sink);
    Observed observed = loader.load_observed(root, file);
    throw_sorted(sink);
    return observed;
}

Observed load_observed_file(const std::string& path) {
    return load_observed(read_file(path), path);
}

}  // namespace sib
