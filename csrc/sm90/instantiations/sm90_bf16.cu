// One dtype of the Hopper decode kernel; compiled only into flash_mla._sm90 (sm_90a).
#include "../splitkv_decode_sm90.cuh"

namespace flash_mla::sm90 {
template struct SplitKVDecode<__nv_bfloat16>;
}  // namespace flash_mla::sm90
