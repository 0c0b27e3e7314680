// What the agent holds while idle (SPEC section 8 budgets the idle agent's resident memory).
#pragma once

namespace tracklight::platform {

// One malloc arena for the whole process: per-thread arenas keep memory a Test freed on a worker
// resident (measured: +1.9 MB anonymous after six Tests with them, +0.9 MB without).
void use_single_heap();

// Gives the heap pages freed by the work that just ended back to the kernel: a Test parses the
// whole CA bundle (hundreds of kB) and frees it afterwards, start-up parses the configuration and
// may make a certificate. Without this the allocator would keep those pages resident.
// (Code pages are left alone: unmapping them lowers RSS without freeing memory, since they stay
// in the page cache, and it would undo a debugger's breakpoints.)
void return_idle_memory();

}  // namespace tracklight::platform
