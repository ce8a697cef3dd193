// One schedule and dtype of the Hopper decode kernel; compiled only into flash_mla._sm90 (sm_90a).
#include "../tile_pairs_kernel.cuh"

namespace flash_mla::sm90 {
template struct TilePairsDecode<__half>;
}  // namespace flash_mla::sm90
