#include "platform/memory.hpp"

#include <cstdint>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace tracklight::platform {
namespace {

struct Range {
  uintptr_t lo = 0, hi = 0;
  bool overlaps(Range o) const { return lo < o.hi && o.lo < hi; }
};

// An object whose code the loader patched (text relocations) has written pages in its read-only
// segments; those hold the only copy of the patch.
bool has_text_relocations(const dl_phdr_info& info) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_DYNAMIC) continue;
    const auto* d = reinterpret_cast<const ElfW(Dyn)*>(info.dlpi_addr + ph.p_vaddr);
    for (; d->d_tag != DT_NULL; ++d) {
      if (d->d_tag == DT_TEXTREL) return true;
      if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)) return true;
    }
  }
  return false;
}

// Called by dl_iterate_phdr, which holds the loader's lock: no object can be unloaded (and its
// addresses reused) while its segments are released here.
int release_object(dl_phdr_info* info, size_t, void* arg) {
  const uintptr_t page = *static_cast<uintptr_t*>(arg);
  const char* name = info->dlpi_name;
  const bool main_program = name == nullptr || name[0] == '\0';
  if (!main_program && name[0] != '/') return 0;  // the vDSO is the kernel's, not a file's
  if (has_text_relocations(*info)) return 0;
  const auto down = [page](uintptr_t a) { return a & ~(page - 1); };
  const auto up = [page](uintptr_t a) { return (a + page - 1) & ~(page - 1); };
  Range relro;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_GNU_RELRO) continue;
    relro = {down(info->dlpi_addr + ph.p_vaddr), up(info->dlpi_addr + ph.p_vaddr + ph.p_memsz)};
  }
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
    // Whole pages of the file-backed part only: a page shared with a neighbouring segment, or
    // one the loader wrote into (RELRO), keeps its contents.
    Range r{up(info->dlpi_addr + ph.p_vaddr), down(info->dlpi_addr + ph.p_vaddr + ph.p_filesz)};
    if (r.lo >= r.hi || r.overlaps(relro)) continue;
    ::madvise(reinterpret_cast<void*>(r.lo), r.hi - r.lo, MADV_DONTNEED);
  }
  return 0;
}

}  // namespace

void use_single_heap() {
#ifdef __GLIBC__
  ::mallopt(M_ARENA_MAX, 1);
#endif
}

void return_idle_memory() {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
  // For a private mapping of a file that was never written, MADV_DONTNEED only unmaps: the next
  // access maps the same page of the file again.
  auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  ::dl_iterate_phdr(release_object, &page);
}

}  // namespace tracklight::platform
