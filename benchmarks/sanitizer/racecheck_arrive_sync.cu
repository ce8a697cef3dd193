// Does compute-sanitizer's racecheck understand a named-barrier hand-off where one side arrives
// (bar.arrive) and the other syncs (bar.sync)? The tile-pair schedule of the Hopper kernel hands P,
// the row maxima and their scales between its two warpgroups that way, and racecheck reports those
// accesses as hazards (benchmarks/NOTES.md, runs 73-74). PTX orders them: "a bar{.cta}.sync or
// bar{.cta}.red or bar{.cta}.arrive operation synchronizes with a bar{.cta}.sync or bar{.cta}.red
// operation executed on the same barrier" (PTX ISA, memory consistency model).
//
// One CTA of 256 threads, two warpgroups, a 128-word shared buffer, kRounds rounds of:
//   warpgroup 0: write buf = round  -> hand off on barrier 1 -> wait on barrier 2
//   warpgroup 1: wait on barrier 1  -> read buf, check it     -> hand off on barrier 2
// with the hand-offs as
//   arrive: the writer/reader arrives, the other side syncs (the kernel's pattern);
//   sync:   both sides sync (what racecheck is known to model);
//   mbarrier: the writer/reader's 128 threads arrive at an mbarrier (release), the other side waits on
//           its phase (acquire): the same one-way hand-off as arrive, on a primitive racecheck may model;
//   none:   no barriers at all (a real race: racecheck must report it, and reads may be stale).
// Usage (on a GPU):
//   nvcc -std=c++17 -arch=sm_90a -o /tmp/racecheck_arrive_sync benchmarks/sanitizer/racecheck_arrive_sync.cu
//   for mode in arrive sync mbarrier none; do
//     compute-sanitizer --tool racecheck /tmp/racecheck_arrive_sync $mode; done
// Each run prints the mode and how many stale reads warpgroup 1 saw (0 for all but none).
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <cuda_runtime.h>

namespace {

constexpr int kRounds = 64;
enum class Mode { kArrive, kSync, kMbarrier, kNone };

__device__ __forceinline__ void bar_sync(int id) { asm volatile("bar.sync %0, 256;" ::"r"(id) : "memory"); }
__device__ __forceinline__ void bar_arrive(int id) { asm volatile("bar.arrive %0, 256;" ::"r"(id) : "memory"); }

__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];" ::"r"(static_cast<unsigned>(__cvta_generic_to_shared(bar)))
               : "memory");
}
__device__ __forceinline__ void mbar_wait(uint64_t* bar, int phase) {
  asm volatile(
      "{\n\t.reg .pred done;\nWAIT:\n\t"
      "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 done, [%0], %1;\n\t@!done bra WAIT;\n}" ::"r"(
          static_cast<unsigned>(__cvta_generic_to_shared(bar))),
      "r"(phase)
      : "memory");
}

__global__ void hand_off(Mode mode, int* stale_reads) {
  __shared__ volatile int buf[128];
  __shared__ uint64_t written, read;  // mbarrier mode: the round's buffer is written / has been read
  const int lane = threadIdx.x % 128;
  const bool writer = threadIdx.x < 128;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 128;" ::"r"(static_cast<unsigned>(__cvta_generic_to_shared(&written))));
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 128;" ::"r"(static_cast<unsigned>(__cvta_generic_to_shared(&read))));
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  int stale = 0;
  for (int round = 1; round <= kRounds; ++round) {
    const int phase = (round - 1) % 2;
    if (writer) {
      buf[(lane + round) % 128] = round;
      if (mode == Mode::kArrive) bar_arrive(1);
      if (mode == Mode::kSync) bar_sync(1);
      if (mode == Mode::kMbarrier) mbar_arrive(&written);
      if (mode == Mode::kArrive || mode == Mode::kSync) bar_sync(2);  // the reader is done with this round's buffer
      if (mode == Mode::kMbarrier) mbar_wait(&read, phase);
    } else {
      if (mode == Mode::kArrive || mode == Mode::kSync) bar_sync(1);
      if (mode == Mode::kMbarrier) mbar_wait(&written, phase);
      stale += buf[(lane + 7 * round) % 128] != round;
      if (mode == Mode::kArrive) bar_arrive(2);
      if (mode == Mode::kSync) bar_sync(2);
      if (mode == Mode::kMbarrier) mbar_arrive(&read);
    }
  }
  if (!writer) atomicAdd(stale_reads, stale);
}

}  // namespace

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "arrive";
  Mode mode;
  if (!strcmp(name, "arrive")) {
    mode = Mode::kArrive;
  } else if (!strcmp(name, "sync")) {
    mode = Mode::kSync;
  } else if (!strcmp(name, "mbarrier")) {
    mode = Mode::kMbarrier;
  } else if (!strcmp(name, "none")) {
    mode = Mode::kNone;
  } else {
    fprintf(stderr, "usage: %s arrive|sync|mbarrier|none\n", argv[0]);
    return 2;
  }
  int* stale = nullptr;
  if (cudaMalloc(&stale, sizeof(int)) != cudaSuccess || cudaMemset(stale, 0, sizeof(int)) != cudaSuccess) {
    fprintf(stderr, "no CUDA device\n");
    return 1;
  }
  hand_off<<<1, 256>>>(mode, stale);
  int host = -1;
  const cudaError_t err = cudaMemcpy(&host, stale, sizeof(int), cudaMemcpyDeviceToHost);
  printf("mode %s: %s, %d stale reads of %d\n", name, cudaGetErrorString(err), host, kRounds * 128);
  return err == cudaSuccess ? 0 : 1;
}
