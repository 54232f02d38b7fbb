// The hot loop allocates nothing: after a first trial has sized everything, further trials (draw,
// settle, metrics) make no heap allocation. Counted by replacing the global operator new in this
// test binary; the count is read only around the trials below.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "helpers.hpp"
#include "sib/sensitivity.hpp"

namespace {
std::atomic<long long> allocations{0};
}  // namespace

// Every form that pairs with the replaced operator delete is replaced too (plain, array,
// nothrow), so that memory from one is never freed by another's runtime: AddressSanitizer
// reports a mismatch otherwise (std::stable_sort's temporary buffer uses the nothrow form).
// The aligned forms are left to the runtime, new and delete alike.
namespace {
void* counted_allocation(std::size_t size) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
    if (void* p = counted_allocation(size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    if (void* p = counted_allocation(size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return counted_allocation(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return counted_allocation(size);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

using namespace sib;

TEST_CASE("trials allocate nothing once their buffers are sized (every shipped scenario)") {
    for (const char* name :
         {"peterborough", "augsburg", "chicago-cpc", "dwp-innovation-fund", "essex",
          "fair-chance-fund", "life-chances-fund", "newpin", "rikers", "utah-preschool"}) {
        CAPTURE(name);
        const Plan plan = compile(
            load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" + name + ".yaml"));
        const MetricLayout metrics = metric_layout(plan);
        const PartyLayout parties = party_layout(plan);
        TrialState state(plan);
        simulate_trial(plan, metrics, parties, 0, state);
        const long long before = allocations.load();
        for (std::uint64_t trial = 1; trial < 200; ++trial)
            simulate_trial(plan, metrics, parties, trial, state);
        CHECK(allocations.load() - before == 0);
        // The counter counts: one vector is one allocation.
        const long long start = allocations.load();
        std::vector<int> one(3);
        CHECK(allocations.load() - start == 1);
    }
}

TEST_CASE("sensitivity evaluations allocate nothing once their buffers are sized") {
    for (const char* name : {"peterborough", "chicago-cpc", "dwp-innovation-fund"}) {
        CAPTURE(name);
        const Plan plan = compile(
            load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" + name + ".yaml"));
        const MetricLayout layout = metric_layout(plan);
        const PartyLayout parties = party_layout(plan);
        const std::vector<int> inputs = uncertain_parameters(plan);
        const std::vector<int> metrics = {layout.payments_total};
        const SobolDesign design = sobol_design(64, static_cast<int>(inputs.size()));
        TrialState state(plan);
        std::vector<FixedUniform> fixed(inputs.size());
        std::vector<double> out(static_cast<std::size_t>(design.rows()));
        evaluate_rows(plan, layout, parties, inputs, metrics, design, 0, 1, state, fixed, out);
        const long long before = allocations.load();
        evaluate_rows(plan, layout, parties, inputs, metrics, design, 1, design.rows(), state,
                      fixed, std::span<double>(out).subspan(1));
        CHECK(allocations.load() - before == 0);
    }
}
