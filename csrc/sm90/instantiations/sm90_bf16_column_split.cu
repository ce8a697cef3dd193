// One schedule and dtype of the Hopper decode kernel; compiled only into flash_mla._sm90 (sm_90a).
#include "../column_split_kernel.cuh"

namespace flash_mla::sm90 {
template struct ColumnSplitDecode<__nv_bfloat16>;
}  // namespace flash_mla::sm90
