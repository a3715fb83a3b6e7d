#include "kernels/ref/pool.h"

#include <limits>

#include "kernels/ref/conv.h"

namespace kaiwu::kernels::ref {

namespace {

// The window geometry padded to 3 spatial dims (leading dims of size 1).
struct Win3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
};

Win3 to_win3(const PoolParams& p) {
  Win3 w;
  int r = static_cast<int>(p.in_dims.size()), off = 3 - r;
  for (int i = 0; i < 3; ++i) {
    int j = i - off;
    bool real = j >= 0;
    w.in[i] = real ? p.in_dims[j] : 1;
    w.out[i] = real ? p.out_dims[j] : 1;
    w.k[i] = real ? p.kernel[j] : 1;
    w.s[i] = real ? p.strides[j] : 1;
    w.d[i] = real ? p.dilations[j] : 1;
    w.pb[i] = real ? p.pads_begin[j] : 0;
    w.pe[i] = real ? p.pads_end[j] : 0;
  }
  return w;
}

// Calls fn(n, c, oz, oy, ox) for every output position.
template <typename F>
void for_each_output(const PoolParams& p, const Win3& w, F&& fn) {
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t oz = 0; oz < w.out[0]; ++oz)
        for (int64_t oy = 0; oy < w.out[1]; ++oy)
          for (int64_t ox = 0; ox < w.out[2]; ++ox) fn(n, c, oz, oy, ox);
}

}  // namespace

template <typename T>
void max_pool(const PoolParams& p, const T* x, T* y, int64_t* indices, bool storage_order_col) {
  const Win3 w = to_win3(p);
  const int r = static_cast<int>(p.in_dims.size());
  for_each_output(p, w, [&](int64_t n, int64_t c, int64_t oz, int64_t oy, int64_t ox) {
    T best = std::numeric_limits<T>::lowest();
    int64_t best_idx = -1;
    const int64_t o[3] = {oz, oy, ox};
    for (int64_t kz = 0; kz < w.k[0]; ++kz)
      for (int64_t ky = 0; ky < w.k[1]; ++ky)
        for (int64_t kx = 0; kx < w.k[2]; ++kx) {
          const int64_t kk[3] = {kz, ky, kx};
          int64_t i[3];
          bool inside = true;
          for (int a = 0; a < 3; ++a) {
            i[a] = o[a] * w.s[a] - w.pb[a] + kk[a] * w.d[a];
            inside = inside && i[a] >= 0 && i[a] < w.in[a];
          }
          if (!inside) continue;
          const T v = x[act_offset(p.layout, n, c, i[0], i[1], i[2], p.channels, w.in)];
          if (best_idx < 0 || v > best) {
            best = v;
            // ONNX index: NCHW-flattened; spatial part row-major, or column-major with storage_order 1.
            int64_t sp = 0;
            if (!storage_order_col) {
              sp = (i[0] * w.in[1] + i[1]) * w.in[2] + i[2];
            } else {  // reverse the real spatial axes
              int64_t mul = 1;
              for (int a = 3 - r; a < 3; ++a) {
                sp += i[a] * mul;
                mul *= w.in[a];
              }
            }
            best_idx = (n * p.channels + c) * (w.in[0] * w.in[1] * w.in[2]) + sp;
          }
        }
    const int64_t off = act_offset(p.layout, n, c, oz, oy, ox, p.channels, w.out);
    y[off] = best_idx < 0 ? T(0) : best;
    if (indices) indices[off] = best_idx < 0 ? 0 : best_idx;
  });
}

void avg_pool_f32(const PoolParams& p, const float* x, float* y) {
  const Win3 w = to_win3(p);
  for_each_output(p, w, [&](int64_t n, int64_t c, int64_t oz, int64_t oy, int64_t ox) {
    const int64_t o[3] = {oz, oy, ox};
    double sum = 0;
    int64_t count = 0, padded_count = 0;
    for (int64_t kz = 0; kz < w.k[0]; ++kz)
      for (int64_t ky = 0; ky < w.k[1]; ++ky)
        for (int64_t kx = 0; kx < w.k[2]; ++kx) {
          const int64_t kk[3] = {kz, ky, kx};
          int64_t i[3];
          bool inside = true, in_padded = true;
          for (int a = 0; a < 3; ++a) {
            i[a] = o[a] * w.s[a] - w.pb[a] + kk[a] * w.d[a];
            inside = inside && i[a] >= 0 && i[a] < w.in[a];
            in_padded = in_padded && i[a] >= -w.pb[a] && i[a] < w.in[a] + w.pe[a];
          }
          if (in_padded) ++padded_count;
          if (!inside) continue;
          sum += x[act_offset(p.layout, n, c, i[0], i[1], i[2], p.channels, w.in)];
          ++count;
        }
    const int64_t div = p.count_include_pad ? padded_count : count;
    y[act_offset(p.layout, n, c, oz, oy, ox, p.channels, w.out)] = div ? static_cast<float>(sum / div) : 0.f;
  });
}

void global_avg_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      double sum = 0;
      for (int64_t s = 0; s < spatial; ++s)
        sum += layout == ActLayout::kNCHW ? x[(n * channels + c) * spatial + s] : x[(n * spatial + s) * channels + c];
      y[n * channels + c] = spatial ? static_cast<float>(sum / spatial) : 0.f;
    }
}

template <typename T>
void global_max_pool(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const T* x, T* y) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      T best = std::numeric_limits<T>::lowest();
      for (int64_t s = 0; s < spatial; ++s) {
        T v = layout == ActLayout::kNCHW ? x[(n * channels + c) * spatial + s] : x[(n * spatial + s) * channels + c];
        if (s == 0 || v > best) best = v;
      }
      y[n * channels + c] = best;
    }
}

template void max_pool<float>(const PoolParams&, const float*, float*, int64_t*, bool);
template void max_pool<double>(const PoolParams&, const double*, double*, int64_t*, bool);
template void max_pool<int8_t>(const PoolParams&, const int8_t*, int8_t*, int64_t*, bool);
template void max_pool<uint8_t>(const PoolParams&, const uint8_t*, uint8_t*, int64_t*, bool);
template void max_pool<int16_t>(const PoolParams&, const int16_t*, int16_t*, int64_t*, bool);
template void global_max_pool<float>(int64_t, int64_t, int64_t, ActLayout, const float*, float*);
template void global_max_pool<double>(int64_t, int64_t, int64_t, ActLayout, const double*, double*);
template void global_max_pool<int8_t>(int64_t, int64_t, int64_t, ActLayout, const int8_t*, int8_t*);
template void global_max_pool<uint8_t>(int64_t, int64_t, int64_t, ActLayout, const uint8_t*, uint8_t*);

}  // namespace kaiwu::kernels::ref
