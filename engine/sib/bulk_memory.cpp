#include "sib/bulk_memory.hpp"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sib {

namespace {
constexpr std::size_t alignment = 64;  // a cache line
}  // namespace

void* bulk_allocate(std::size_t bytes) {
    if (bytes == 0) bytes = 1;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= bulk_threshold) {
        void* p =
            ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        // Advice only: where transparent huge pages are off, this is 4 KiB pages as before.
        ::madvise(p, bytes, MADV_HUGEPAGE);
        return p;
    }
#endif
    void* p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

void bulk_free(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
    if (bytes == 0) bytes = 1;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= bulk_threshold) {
        ::munmap(p, bytes);
        return;
    }
#endif
    std::free(p);
}

}  // namespace sib
