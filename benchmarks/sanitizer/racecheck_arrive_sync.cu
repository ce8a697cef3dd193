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
//   none:   no barriers at all (a real race: racecheck must report it, and reads may be stale).
// Usage (on a GPU):
//   nvcc -std=c++17 -arch=sm_90a -o /tmp/racecheck_arrive_sync benchmarks/sanitizer/racecheck_arrive_sync.cu
//   for mode in arrive sync none; do
//     compute-sanitizer --tool racecheck /tmp/racecheck_arrive_sync $mode; done
// Each run prints the mode and how many stale reads warpgroup 1 saw (0 for arrive and sync).
#include <cstdio>
#include <cstring>

#include <cuda_runtime.h>

namespace {

constexpr int kRounds = 64;
enum class Mode { kArrive, kSync, kNone };

__device__ __forceinline__ void bar_sync(int id) { asm volatile("bar.sync %0, 256;" ::"r"(id) : "memory"); }
__device__ __forceinline__ void bar_arrive(int id) { asm volatile("bar.arrive %0, 256;" ::"r"(id) : "memory"); }

__global__ void hand_off(Mode mode, int* stale_reads) {
  __shared__ volatile int buf[128];
  const int lane = threadIdx.x % 128;
  const bool writer = threadIdx.x < 128;
  int stale = 0;
  for (int round = 1; round <= kRounds; ++round) {
    if (writer) {
      buf[(lane + round) % 128] = round;
      if (mode == Mode::kArrive) bar_arrive(1);
      if (mode == Mode::kSync) bar_sync(1);
      if (mode != Mode::kNone) bar_sync(2);  // the reader is done with this round's buffer
    } else {
      if (mode != Mode::kNone) bar_sync(1);
      stale += buf[(lane + 7 * round) % 128] != round;
      if (mode == Mode::kArrive) bar_arrive(2);
      if (mode == Mode::kSync) bar_sync(2);
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
  } else if (!strcmp(name, "none")) {
    mode = Mode::kNone;
  } else {
    fprintf(stderr, "usage: %s arrive|sync|none\n", argv[0]);
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
