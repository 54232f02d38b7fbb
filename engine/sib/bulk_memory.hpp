#pragma once
// Memory for the run's large per-trial arrays (metric values, sampled cash flows): left
// uninitialised, since the workers write every element, and, from 2 MiB up, mapped on its own
// with transparent huge pages advised, so that first touching a few hundred MiB costs a few
// hundred faults instead of one per 4 KiB page (bench/README.md, issue 15).
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sib {

/// `bytes` of memory aligned to 64; from bulk_threshold up, its own mapping advised for huge
/// pages. Throws std::bad_alloc when none is left.
void* bulk_allocate(std::size_t bytes);
/// Frees what bulk_allocate(bytes) returned, given the same `bytes`.
void bulk_free(void* p, std::size_t bytes) noexcept;

/// Arrays from this size up get a mapping of their own (huge-page aligned).
inline constexpr std::size_t bulk_threshold = std::size_t{2} << 20;

/// A std::vector allocator over bulk_allocate whose `resize` leaves elements default-initialised
/// (doubles: uninitialised).
template <class T>
struct BulkAllocator {
    using value_type = T;
    BulkAllocator() = default;
    template <class U>
    BulkAllocator(const BulkAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(bulk_allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { bulk_free(p, n * sizeof(T)); }

    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <class U>
    bool operator==(const BulkAllocator<U>&) const noexcept {
        return true;
    }
};

/// A large array of doubles written once by the workers (see BulkAllocator).
using BulkDoubles = std::vector<double, BulkAllocator<double>>;

}  // namespace sib
