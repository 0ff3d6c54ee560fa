/*
 * flwr-ml-native: the seed's CIFAR-10 Net (conv 3->6 5x5, maxpool 2, conv
 * 6->16 5x5, maxpool 2, fc 400->120->84->10, ReLU) trained in C: forward,
 * softmax cross-entropy (mean), backward and every parameter's gradient for
 * a chunk of images, PyTorch's SGD-momentum update, and the forward pass for
 * evaluation, as one N-API addon.
 *
 * Why our own code: tfjs's wasm backend (XNNPACK) runs this Net's
 * convolutions at 2-4 GMAC/s and its per-kernel JavaScript glue costs as much
 * again; flwr-ml trained at about 0.45x PyTorch's images/s (wall clock, 2
 * workers vs 2 threads) and 0.5x per CPU-second. Here conv1 (forward and
 * filter gradient) and conv2's filter gradient run directly on zero-padded
 * planar images with 8-wide vector accumulators held in registers (no
 * im2col: copying conv1's patch matrix cost as much as the product); conv2's
 * forward and input gradient are im2col/col2im + small row-major products
 * whose inner loops run over the contiguous 100-value output plane, which
 * gcc -O3 -march=native vectorises (AVX2/AVX-512 FMA on the development
 * machine); all activations of a chunk stay in one cached scratch buffer and
 * no layer boundary crosses into JavaScript. Measured on the 2-vCPU
 * development machine (thread CPU time, best of 5): a 16-image step 1.20 ms
 * (75 us per image, ~13,000 img/s per core; PyTorch 2.15 with one thread:
 * 3,100-5,800 img/s per CPU-second); 2.38 ms with im2col for every
 * convolution. Per image: conv1 forward 12 us, its filter gradient 8, conv2
 * forward 13 (im2col included), its filter gradient 9, its input gradient
 * 10 + 3 (col2im), the dense layers ~6.
 * More in packages/flwr-ml README ("Native training step").
 *
 * Layouts: the flat parameter vector is flwr-ml's (tfjs layouts in
 * state_dict order: conv [kh, kw, in, out], dense [in, out]); images are
 * NHWC float32 (normalised), labels int32. Internally every image is planar
 * (CHW); the conv filters are transposed to [out][in*25] per call. The math
 * is PyTorch's: float32 throughout (the loss and softmax in double, as
 * flwr-ml's JavaScript kernel), max-pool gradients to the first maximum of
 * each window, ReLU's derivative 0 at 0.
 *
 * No global state: each Node environment (main thread or worker thread) has
 * its own scratch buffer (napi instance data, freed with the environment).
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Offsets of the parameters in the flat vector (tfjs layouts, state_dict order). */
#define OFF_W1 0      /* conv1.weight [5,5,3,6] */
#define OFF_B1 450    /* conv1.bias [6] */
#define OFF_W2 456    /* conv2.weight [5,5,6,16] */
#define OFF_B2 2856   /* conv2.bias [16] */
#define OFF_F1 2872   /* fc1.weight [400,120] */
#define OFF_C1 50872  /* fc1.bias [120] */
#define OFF_F2 50992  /* fc2.weight [120,84] */
#define OFF_C2 61072  /* fc2.bias [84] */
#define OFF_F3 61156  /* fc3.weight [84,10] */
#define OFF_C3 61996  /* fc3.bias [10] */
#define PARAMS 62006

#define IMG 3072         /* 32*32*3 */
#define K1 75            /* 3*25: conv1's patch */
#define S1 784           /* 28*28: conv1's output plane */
#define A1 (6 * S1)      /* conv1's activations */
#define Q1 (6 * 196)     /* pool1's output (6 x 14 x 14) */
#define K2 150           /* 6*25 */
#define S2 100           /* 10*10 */
#define A2 (16 * S2)     /* conv2's activations */
#define FEAT 400
#define H1 120
#define H2 84
#define OUT 10

/* ---------------------------------------------------------------- kernels */

/* Patches of planes src [c][s][s] for a 5x5 valid convolution: dst [c*25][o*o], o = s-4. */
static void im2col5(const float *restrict src, int channels, int s, float *restrict dst) {
  const int o = s - 4;
  for (int c = 0; c < channels; c++)
    for (int ky = 0; ky < 5; ky++)
      for (int kx = 0; kx < 5; kx++) {
        float *row = dst + (size_t)(c * 25 + ky * 5 + kx) * o * o;
        const float *from = src + (size_t)c * s * s + ky * s + kx;
        for (int y = 0; y < o; y++) memcpy(row + y * o, from + y * s, sizeof(float) * o);
      }
}

/* The transpose of im2col5, accumulated: dst [c][s][s] += patches src [c*25][o*o]. */
static void col2im5(const float *restrict src, int channels, int s, float *restrict dst) {
  const int o = s - 4;
  memset(dst, 0, sizeof(float) * channels * s * s);
  for (int c = 0; c < channels; c++)
    for (int ky = 0; ky < 5; ky++)
      for (int kx = 0; kx < 5; kx++) {
        const float *row = src + (size_t)(c * 25 + ky * 5 + kx) * o * o;
        float *to = dst + (size_t)c * s * s + ky * s + kx;
        for (int y = 0; y < o; y++) {
          float *restrict t = to + y * s;
          const float *restrict r = row + y * o;
          for (int x = 0; x < o; x++) t[x] += r[x];
        }
      }
}

/* c [m][n] = bias[m] + a [m][k] . b [k][n] (row-major; b streamed once, c kept in cache). */
static void gemm_bias(int m, int n, int k, const float *restrict a, const float *restrict b,
                      const float *restrict bias, float *restrict c) {
  for (int i = 0; i < m; i++) {
    float *restrict ci = c + (size_t)i * n;
    const float v = bias[i];
    for (int j = 0; j < n; j++) ci[j] = v;
  }
  for (int p = 0; p < k; p++) {
    const float *restrict bp = b + (size_t)p * n;
    for (int i = 0; i < m; i++) {
      const float v = a[(size_t)i * k + p];
      float *restrict ci = c + (size_t)i * n;
      for (int j = 0; j < n; j++) ci[j] += v * bp[j];
    }
  }
}

/* c [k][n] = a [m][k]^T . b [m][n]. */
static void gemm_tn(int m, int n, int k, const float *restrict a, const float *restrict b,
                    float *restrict c) {
  memset(c, 0, sizeof(float) * k * n);
  for (int p = 0; p < k; p++) {
    float *restrict cp = c + (size_t)p * n;
    for (int i = 0; i < m; i++) {
      const float v = a[(size_t)i * k + p];
      const float *restrict bi = b + (size_t)i * n;
      for (int j = 0; j < n; j++) cp[j] += v * bi[j];
    }
  }
}

/*
 * conv1 directly on the planar image (no im2col: copying its 58,800-value
 * patch matrix cost as much as the product), 8-wide vectors (GCC vector
 * extensions; AVX/AVX-512 with -march=native, pairs of SSE/NEON registers
 * elsewhere). An output row (28 values) is 4 vectors, its last 4 lanes
 * junk: the planar image's rows have a stride of XS = 40 with zero padding so
 * that the junk lanes read finite values inside the buffer.
 */
typedef float v8 __attribute__((vector_size(32)));
#define XS 40
#define XPLANE (32 * XS)

static inline v8 ld8(const float *p) {
  v8 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline v8 splat8(float x) { return (v8){x, x, x, x, x, x, x, x}; }

static inline float hsum8(v8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* y [6][784] = bias + conv1 of xc [3][32][XS] (no ReLU). */
static void conv1_forward(const float *restrict xc, const float *restrict w1t,
                          const float *restrict bias, float *restrict y) {
  for (int oy = 0; oy < 28; oy++) {
    v8 acc[6][4];
    for (int o = 0; o < 6; o++)
      for (int q = 0; q < 4; q++) acc[o][q] = splat8(bias[o]);
    for (int c = 0; c < 3; c++)
      for (int ky = 0; ky < 5; ky++) {
        const float *row = xc + c * XPLANE + (oy + ky) * XS;
        for (int kx = 0; kx < 5; kx++) {
          const v8 x0 = ld8(row + kx), x1 = ld8(row + kx + 8), x2 = ld8(row + kx + 16),
                   x3 = ld8(row + kx + 24);
          const int k = c * 25 + ky * 5 + kx;
          for (int o = 0; o < 6; o++) {
            const v8 w = splat8(w1t[o * K1 + k]);
            acc[o][0] += w * x0;
            acc[o][1] += w * x1;
            acc[o][2] += w * x2;
            acc[o][3] += w * x3;
          }
        }
      }
    for (int o = 0; o < 6; o++) {
      float *to = y + o * S1 + oy * 28;
      memcpy(to, &acc[o][0], sizeof(v8));
      memcpy(to + 8, &acc[o][1], sizeof(v8));
      memcpy(to + 16, &acc[o][2], sizeof(v8));
      memcpy(to + 24, &acc[o][3], 4 * sizeof(float));
    }
  }
}

/* acc [6][75] (vector partial sums) += conv1's filter gradient of one image: dz [6][784], xc. */
static void conv1_filter_grad(const float *restrict xc, const float *restrict dz,
                              v8 *restrict acc) {
  for (int oy = 0; oy < 28; oy++) {
    v8 d[6][4];
    for (int o = 0; o < 6; o++) {
      const float *from = dz + o * S1 + oy * 28;
      d[o][0] = ld8(from);
      d[o][1] = ld8(from + 8);
      d[o][2] = ld8(from + 16);
      d[o][3] = (v8){from[24], from[25], from[26], from[27], 0, 0, 0, 0};
    }
    for (int c = 0; c < 3; c++)
      for (int ky = 0; ky < 5; ky++) {
        const float *row = xc + c * XPLANE + (oy + ky) * XS;
        for (int kx = 0; kx < 5; kx++) {
          const v8 x0 = ld8(row + kx), x1 = ld8(row + kx + 8), x2 = ld8(row + kx + 16),
                   x3 = ld8(row + kx + 24);
          const int k = c * 25 + ky * 5 + kx;
          for (int o = 0; o < 6; o++)
            acc[o * K1 + k] += d[o][0] * x0 + d[o][1] * x1 + d[o][2] * x2 + d[o][3] * x3;
        }
      }
  }
}

/*
 * conv2's filter gradient directly on a row-padded copy of pool1's output:
 * an output row (10 values) is 2 vectors whose last 6 lanes of dz are 0, the
 * 8 vector accumulators of 8 filters stay in registers over the 10 rows, and
 * the horizontal sums are left to the end of the chunk (2,400 dot products
 * of 100 values each with its own horizontal sum took 23 us per image).
 */
#define QS 20
#define QPLANE (14 * QS)

/* q [6][14][14] -> qp [6][14][QS] (columns 14.. stay 0); dz [16][100] -> dp [16][10][16] (lanes 10.. 0). */
static void conv2_pad(const float *restrict q, const float *restrict dz, float *restrict qp,
                      float *restrict dp) {
  for (int c = 0; c < 6; c++)
    for (int r = 0; r < 14; r++) memcpy(qp + c * QPLANE + r * QS, q + c * 196 + r * 14, 14 * sizeof(float));
  for (int o = 0; o < 16; o++)
    for (int r = 0; r < 10; r++) memcpy(dp + (o * 10 + r) * 16, dz + o * S2 + r * 10, 10 * sizeof(float));
}

/* acc [16][150] (vector partial sums) += conv2's filter gradient of one image. */
static void conv2_filter_grad(const float *restrict qp, const float *restrict dp,
                              v8 *restrict acc) {
  for (int ob = 0; ob < 16; ob += 8)
    for (int c = 0; c < 6; c++)
      for (int ky = 0; ky < 5; ky++)
        for (int kx = 0; kx < 5; kx++) {
          const int k = c * 25 + ky * 5 + kx;
          v8 a[8];
          for (int o = 0; o < 8; o++) a[o] = acc[(ob + o) * K2 + k];
          for (int oy = 0; oy < 10; oy++) {
            const float *row = qp + c * QPLANE + (oy + ky) * QS + kx;
            const v8 x0 = ld8(row), x1 = ld8(row + 8);
            for (int o = 0; o < 8; o++) {
              const float *d = dp + ((ob + o) * 10 + oy) * 16;
              a[o] += ld8(d) * x0 + ld8(d + 8) * x1;
            }
          }
          for (int o = 0; o < 8; o++) acc[(ob + o) * K2 + k] = a[o];
        }
}

/* In place ReLU. */
static void relu(float *restrict x, int size) {
  for (int i = 0; i < size; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

/*
 * 2x2/2 max pool of planes y [c][s][s]; out[index(c, py, px)] gets the maximum,
 * arg the window position of its first maximum (0..3: (0,0), (0,1), (1,0), (1,1)).
 * hwc: out is [py][px][c] (fc1's NHWC flatten) instead of [c][py][px].
 */
static void maxpool2(const float *restrict y, int channels, int s, int hwc, float *restrict out,
                     uint8_t *restrict arg) {
  const int o = s / 2;
  for (int c = 0; c < channels; c++)
    for (int py = 0; py < o; py++)
      for (int px = 0; px < o; px++) {
        const float *w = y + (size_t)c * s * s + 2 * py * s + 2 * px;
        float best = w[0];
        int at = 0;
        if (w[1] > best) best = w[1], at = 1;
        if (w[s] > best) best = w[s], at = 2;
        if (w[s + 1] > best) best = w[s + 1], at = 3;
        const int idx = hwc ? (py * o + px) * channels + c : (c * o + py) * o + px;
        out[idx] = best;
        arg[idx] = (uint8_t)at;
      }
}

/*
 * Backward of maxpool2 o ReLU o bias: dz [c][s][s] (zeroed here) gets dp at
 * each window's maximum where that activation is > 0; db[c] += its sum.
 */
static void maxpool2_relu_back(const float *restrict y, const float *restrict dp,
                               const uint8_t *restrict arg, int channels, int s, int hwc,
                               float *restrict dz, float *restrict db) {
  const int o = s / 2;
  memset(dz, 0, sizeof(float) * channels * s * s);
  for (int c = 0; c < channels; c++) {
    float sum = 0;
    for (int py = 0; py < o; py++)
      for (int px = 0; px < o; px++) {
        const int idx = hwc ? (py * o + px) * channels + c : (c * o + py) * o + px;
        const int at = arg[idx];
        const size_t pos = (size_t)c * s * s + (2 * py + (at >> 1)) * s + 2 * px + (at & 1);
        if (y[pos] > 0) {
          dz[pos] = dp[idx];
          sum += dp[idx];
        }
      }
    db[c] += sum;
  }
}

/* h [n][out] = bias + x [n][in] . w [in][out], ReLU if asked. */
static void dense(int n, int in, int out, const float *restrict x, const float *restrict w,
                  const float *restrict bias, int act, float *restrict h) {
  for (int i = 0; i < n; i++) {
    float *restrict hi = h + (size_t)i * out;
    for (int j = 0; j < out; j++) hi[j] = bias[j];
    const float *restrict xi = x + (size_t)i * in;
    for (int p = 0; p < in; p++) {
      const float v = xi[p];
      if (v == 0) continue; /* ReLU'd inputs: about half are 0 */
      const float *restrict wp = w + (size_t)p * out;
      for (int j = 0; j < out; j++) hi[j] += v * wp[j];
    }
    if (act) relu(hi, out);
  }
}

/*
 * Backward of a dense layer given dz [n][out]: dw [in][out] = x^T dz, db = sum dz,
 * and (when dx is not NULL) dx [n][in] = dz w^T masked by x > 0 (x is a ReLU's output).
 */
static void dense_back(int n, int in, int out, const float *restrict x, const float *restrict w,
                       const float *restrict dz, float *restrict dw, float *restrict db,
                       float *restrict dx) {
  memset(dw, 0, sizeof(float) * in * out);
  for (int j = 0; j < out; j++) db[j] = 0;
  for (int i = 0; i < n; i++) {
    const float *restrict dzi = dz + (size_t)i * out;
    for (int j = 0; j < out; j++) db[j] += dzi[j];
    const float *restrict xi = x + (size_t)i * in;
    for (int p = 0; p < in; p++) {
      const float v = xi[p];
      if (v == 0) continue;
      float *restrict dwp = dw + (size_t)p * out;
      for (int j = 0; j < out; j++) dwp[j] += v * dzi[j];
    }
    if (!dx) continue;
    float *restrict dxi = dx + (size_t)i * in;
    for (int p = 0; p < in; p++) {
      if (!(xi[p] > 0)) {
        dxi[p] = 0;
        continue;
      }
      const float *restrict wp = w + (size_t)p * out;
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int j = 0; j < out; j++) s += dzi[j] * wp[j];
      dxi[p] = s;
    }
  }
}

/* ------------------------------------------------------------ the network */

/* Scratch for a chunk of n images (training keeps every image's activations). */
typedef struct {
  float *w1t;    /* [6][75] */
  float *w2t;    /* [16][150] */
  float *xc;     /* [3][32][XS] one image, planar, rows zero-padded */
  float *y1;     /* [n][6][784] conv1 ReLU outputs */
  uint8_t *a1;   /* [n][1176] pool1 window maxima */
  float *q1;     /* [n][6][14][14] pool1 outputs */
  float *p2;     /* [150][100] conv2 patches of one image */
  float *y2;     /* [n][16][100] */
  uint8_t *a2;   /* [n][400] */
  float *feat;   /* [n][400] pool2 outputs, NHWC flatten */
  float *h1;     /* [n][120] */
  float *h2;     /* [n][84] */
  float *z3;     /* [n][10] logits */
  float *d3;     /* [n][10] */
  float *dh2;    /* [n][84] */
  float *dh1;    /* [n][120] */
  float *dfeat;  /* [n][400] */
  float *dz2;    /* [16][100] */
  float *dp2;    /* [150][100] */
  float *dq1;    /* [6][14][14] */
  float *dz1;    /* [6][784] */
  v8 *dw1v;      /* [6][75] vector partial sums of conv1's filter gradient */
  v8 *dw2v;      /* [16][150] the same for conv2 */
  float *qp;     /* [6][14][QS] one image's pool1 output, rows zero-padded */
  float *dzp;    /* [16][10][16] one image's conv2 dz, rows zero-padded */
} Work;

typedef struct {
  void *buffer;
  size_t capacity;
} Instance;

static size_t align64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Lays out Work for n images (keep: every image's activations, else one image's). */
static size_t work_layout(Work *w, char *base, int n, int keep) {
  const size_t kn = keep ? (size_t)n : 1;
  size_t at = 0;
#define TAKE(field, type, count)                                  \
  do {                                                            \
    if (base) w->field = (type *)(base + at);                     \
    at += align64(sizeof(type) * (size_t)(count));                \
  } while (0)
  TAKE(w1t, float, 6 * K1);
  TAKE(w2t, float, 16 * K2);
  TAKE(xc, float, 3 * XPLANE);
  TAKE(y1, float, kn * A1);
  TAKE(a1, uint8_t, kn * Q1);
  TAKE(q1, float, kn * Q1);
  TAKE(p2, float, K2 * S2);
  TAKE(y2, float, kn * A2);
  TAKE(a2, uint8_t, (size_t)n * FEAT);
  TAKE(feat, float, (size_t)n * FEAT);
  TAKE(h1, float, (size_t)n * H1);
  TAKE(h2, float, (size_t)n * H2);
  TAKE(z3, float, (size_t)n * OUT);
  TAKE(d3, float, (size_t)n * OUT);
  TAKE(dh2, float, (size_t)n * H2);
  TAKE(dh1, float, (size_t)n * H1);
  TAKE(dfeat, float, (size_t)n * FEAT);
  TAKE(dz2, float, A2);
  TAKE(dp2, float, K2 * S2);
  TAKE(dq1, float, Q1);
  TAKE(dz1, float, A1);
  TAKE(dw1v, v8, 6 * K1);
  TAKE(dw2v, v8, 16 * K2);
  TAKE(qp, float, 6 * QPLANE);
  TAKE(dzp, float, 16 * 160);
#undef TAKE
  return at;
}

/* The environment's scratch, grown to fit; NULL when out of memory. */
static int work_for(Instance *inst, Work *w, int n, int keep) {
  const size_t need = work_layout(w, NULL, n, keep);
  if (need > inst->capacity) {
    void *buffer = NULL;
    if (posix_memalign(&buffer, 64, need) != 0) return 0;
    free(inst->buffer);
    inst->buffer = buffer;
    inst->capacity = need;
  }
  work_layout(w, (char *)inst->buffer, n, keep);
  memset(w->xc, 0, sizeof(float) * 3 * XPLANE); /* the padding columns */
  memset(w->qp, 0, sizeof(float) * 6 * QPLANE);
  memset(w->dzp, 0, sizeof(float) * 16 * 160);
  return 1;
}

/* The conv filters as [out][in*25] (k = c*25 + ky*5 + kx) from tfjs's [ky][kx][in][out]. */
static void filters(const float *params, Work *w) {
  for (int ky = 0; ky < 5; ky++)
    for (int kx = 0; kx < 5; kx++) {
      for (int c = 0; c < 3; c++)
        for (int o = 0; o < 6; o++)
          w->w1t[o * K1 + c * 25 + ky * 5 + kx] = params[OFF_W1 + ((ky * 5 + kx) * 3 + c) * 6 + o];
      for (int c = 0; c < 6; c++)
        for (int o = 0; o < 16; o++)
          w->w2t[o * K2 + c * 25 + ky * 5 + kx] =
              params[OFF_W2 + ((ky * 5 + kx) * 6 + c) * 16 + o];
    }
}

/* NHWC image -> planar [3][32][XS] (columns 32.. of each row stay 0). */
static void planar(const float *restrict x, float *restrict xc) {
  for (int r = 0; r < 32; r++)
    for (int col = 0; col < 32; col++)
      for (int c = 0; c < 3; c++) xc[c * XPLANE + r * XS + col] = x[(r * 32 + col) * 3 + c];
}

/* Forward pass of n images; logits in w->z3. keep: store what the backward pass needs. */
static void forward(const float *params, const float *x, int n, int keep, Work *w) {
  filters(params, w);
  for (int i = 0; i < n; i++) {
    const size_t k = keep ? (size_t)i : 0;
    float *y1 = w->y1 + k * A1;
    float *q1 = w->q1 + k * Q1;
    float *y2 = w->y2 + k * A2;
    planar(x + (size_t)i * IMG, w->xc);
    conv1_forward(w->xc, w->w1t, params + OFF_B1, y1);
    relu(y1, A1);
    maxpool2(y1, 6, 28, 0, q1, w->a1 + k * Q1);
    im2col5(q1, 6, 14, w->p2);
    gemm_bias(16, S2, K2, w->w2t, w->p2, params + OFF_B2, y2);
    relu(y2, A2);
    maxpool2(y2, 16, 10, 1, w->feat + (size_t)i * FEAT, w->a2 + (size_t)i * FEAT);
  }
  dense(n, FEAT, H1, w->feat, params + OFF_F1, params + OFF_C1, 1, w->h1);
  dense(n, H1, H2, w->h1, params + OFF_F2, params + OFF_C2, 1, w->h2);
  dense(n, H2, OUT, w->h2, params + OFF_F3, params + OFF_C3, 0, w->z3);
}

/* Summed softmax cross-entropy of z [n][10]; d = (softmax - one-hot)/n. Double inside. */
static double softmax_ce(const float *z, const int32_t *labels, int n, float *d) {
  double total = 0;
  for (int i = 0; i < n; i++) {
    const float *zi = z + i * OUT;
    double max = -INFINITY;
    for (int j = 0; j < OUT; j++) max = zi[j] > max ? zi[j] : max;
    double sum = 0;
    for (int j = 0; j < OUT; j++) sum += exp((double)zi[j] - max);
    const double logsum = log(sum) + max;
    const int label = labels[i];
    total += logsum - zi[label];
    for (int j = 0; j < OUT; j++)
      d[i * OUT + j] = (float)((exp((double)zi[j] - logsum) - (j == label ? 1.0 : 0.0)) / n);
  }
  return total;
}

/* Mean loss of n images and every parameter's gradient (flat, tfjs layouts) into grads. */
static double train_step(const float *params, const float *x, const int32_t *labels, int n,
                         float *grads, Work *w) {
  forward(params, x, n, 1, w);
  const double loss = softmax_ce(w->z3, labels, n, w->d3) / n;
  dense_back(n, H2, OUT, w->h2, params + OFF_F3, w->d3, grads + OFF_F3, grads + OFF_C3, w->dh2);
  dense_back(n, H1, H2, w->h1, params + OFF_F2, w->dh2, grads + OFF_F2, grads + OFF_C2, w->dh1);
  /* fc1's input is pool2's output (>= 0 after ReLU): its mask is the pool's. */
  dense_back(n, FEAT, H1, w->feat, params + OFF_F1, w->dh1, grads + OFF_F1, grads + OFF_C1,
             w->dfeat);
  memset(w->dw1v, 0, sizeof(v8) * 6 * K1);
  memset(w->dw2v, 0, sizeof(v8) * 16 * K2);
  float *db1 = grads + OFF_B1;
  float *db2 = grads + OFF_B2;
  memset(db1, 0, sizeof(float) * 6);
  memset(db2, 0, sizeof(float) * 16);
  for (int i = 0; i < n; i++) {
    const float *y1 = w->y1 + (size_t)i * A1;
    const float *q1 = w->q1 + (size_t)i * Q1;
    const float *y2 = w->y2 + (size_t)i * A2;
    /* The pooled features equal to 0 had dfeat zeroed by dense_back's mask; the
       pool/ReLU backward below masks by y2 > 0 itself. */
    maxpool2_relu_back(y2, w->dfeat + (size_t)i * FEAT, w->a2 + (size_t)i * FEAT, 16, 10, 1,
                       w->dz2, db2);
    conv2_pad(q1, w->dz2, w->qp, w->dzp);
    conv2_filter_grad(w->qp, w->dzp, w->dw2v);
    gemm_tn(16, S2, K2, w->w2t, w->dz2, w->dp2);
    col2im5(w->dp2, 6, 14, w->dq1);
    maxpool2_relu_back(y1, w->dq1, w->a1 + (size_t)i * Q1, 6, 28, 0, w->dz1, db1);
    planar(x + (size_t)i * IMG, w->xc);
    conv1_filter_grad(w->xc, w->dz1, w->dw1v);
  }
  for (int ky = 0; ky < 5; ky++)
    for (int kx = 0; kx < 5; kx++) {
      for (int c = 0; c < 3; c++)
        for (int o = 0; o < 6; o++)
          grads[OFF_W1 + ((ky * 5 + kx) * 3 + c) * 6 + o] =
              hsum8(w->dw1v[o * K1 + c * 25 + ky * 5 + kx]);
      for (int c = 0; c < 6; c++)
        for (int o = 0; o < 16; o++)
          grads[OFF_W2 + ((ky * 5 + kx) * 6 + c) * 16 + o] =
              hsum8(w->dw2v[o * K2 + c * 25 + ky * 5 + kx]);
    }
  return loss;
}

/* ----------------------------------------------------------------- N-API */

#define CHECK(call)                                      \
  do {                                                   \
    if ((call) != napi_ok) {                             \
      napi_throw_error(env, NULL, "flwr-ml-native: " #call " failed"); \
      return NULL;                                       \
    }                                                    \
  } while (0)

/* A typed array argument of the given type with at least min elements. */
static int typed(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data,
                 size_t *length, const char *what) {
  bool is = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok ||
      type != want) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  if (*length < min) {
    napi_throw_range_error(env, NULL, what);
    return 0;
  }
  return 1;
}

static int chunk_size(napi_env env, napi_value v, int *n) {
  int32_t value = 0;
  if (napi_get_value_int32(env, v, &value) != napi_ok || value < 1 || value > 65536) {
    napi_throw_range_error(env, NULL, "flwr-ml-native: n must be an integer in 1..65536");
    return 0;
  }
  *n = value;
  return 1;
}

/* trainStep(params: Float32Array, x: Float32Array, labels: Int32Array, n, grads: Float32Array): number */
static napi_value js_train_step(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "flwr-ml-native: trainStep(params, x, labels, n, grads)");
    return NULL;
  }
  int n = 0;
  void *params, *x, *labels, *grads;
  size_t len;
  if (!chunk_size(env, argv[3], &n)) return NULL;
  if (!typed(env, argv[0], napi_float32_array, PARAMS, &params, &len,
             "flwr-ml-native: params must be a Float32Array of 62006 values") ||
      !typed(env, argv[1], napi_float32_array, (size_t)n * IMG, &x, &len,
             "flwr-ml-native: x must be a Float32Array of n NHWC images") ||
      !typed(env, argv[2], napi_int32_array, (size_t)n, &labels, &len,
             "flwr-ml-native: labels must be an Int32Array of n labels") ||
      !typed(env, argv[4], napi_float32_array, PARAMS, &grads, &len,
             "flwr-ml-native: grads must be a Float32Array of 62006 values"))
    return NULL;
  const int32_t *y = (const int32_t *)labels;
  for (int i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= OUT) {
      napi_throw_range_error(env, NULL, "flwr-ml-native: label outside 0..9");
      return NULL;
    }
  Instance *inst = NULL;
  CHECK(napi_get_instance_data(env, (void **)&inst));
  Work w;
  if (!inst || !work_for(inst, &w, n, 1)) {
    napi_throw_error(env, NULL, "flwr-ml-native: out of memory");
    return NULL;
  }
  const double loss = train_step((const float *)params, (const float *)x, y, n, (float *)grads, &w);
  napi_value result;
  CHECK(napi_create_double(env, loss, &result));
  return result;
}

/* forward(params, x, n, logits: Float32Array (n*10)): undefined */
static napi_value js_forward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "flwr-ml-native: forward(params, x, n, logits)");
    return NULL;
  }
  int n = 0;
  void *params, *x, *logits;
  size_t len;
  if (!chunk_size(env, argv[2], &n)) return NULL;
  if (!typed(env, argv[0], napi_float32_array, PARAMS, &params, &len,
             "flwr-ml-native: params must be a Float32Array of 62006 values") ||
      !typed(env, argv[1], napi_float32_array, (size_t)n * IMG, &x, &len,
             "flwr-ml-native: x must be a Float32Array of n NHWC images") ||
      !typed(env, argv[3], napi_float32_array, (size_t)n * OUT, &logits, &len,
             "flwr-ml-native: logits must be a Float32Array of n*10 values"))
    return NULL;
  Instance *inst = NULL;
  CHECK(napi_get_instance_data(env, (void **)&inst));
  Work w;
  if (!inst || !work_for(inst, &w, n, 0)) {
    napi_throw_error(env, NULL, "flwr-ml-native: out of memory");
    return NULL;
  }
  forward((const float *)params, (const float *)x, n, 0, &w);
  memcpy(logits, w.z3, sizeof(float) * n * OUT);
  return NULL;
}

/*
 * sgdStep(weights, momentum, parts: Float32Array[], scales: number[], lr, m):
 * PyTorch's SGD with momentum in float32: g = sum_j scale_j part_j; a = m a + g; w = w - lr a.
 */
static napi_value js_sgd_step(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL,
                          "flwr-ml-native: sgdStep(weights, momentum, parts, scales, lr, m)");
    return NULL;
  }
  void *wp, *ap;
  size_t size, asize;
  if (!typed(env, argv[0], napi_float32_array, 1, &wp, &size,
             "flwr-ml-native: weights must be a Float32Array") ||
      !typed(env, argv[1], napi_float32_array, size, &ap, &asize,
             "flwr-ml-native: momentum must be a Float32Array as long as weights"))
    return NULL;
  uint32_t count = 0, scount = 0;
  bool isArray = false;
  if (napi_is_array(env, argv[2], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, argv[2], &count) != napi_ok ||
      napi_get_array_length(env, argv[3], &scount) != napi_ok || count == 0 || count != scount ||
      count > 64) {
    napi_throw_range_error(env, NULL, "flwr-ml-native: sgdStep needs 1..64 parts, one scale each");
    return NULL;
  }
  const float *parts[64];
  float scales[64];
  for (uint32_t j = 0; j < count; j++) {
    napi_value part, scale;
    void *data;
    size_t len;
    double s;
    CHECK(napi_get_element(env, argv[2], j, &part));
    CHECK(napi_get_element(env, argv[3], j, &scale));
    if (!typed(env, part, napi_float32_array, size, &data, &len,
               "flwr-ml-native: each part must be a Float32Array as long as weights"))
      return NULL;
    if (napi_get_value_double(env, scale, &s) != napi_ok) {
      napi_throw_type_error(env, NULL, "flwr-ml-native: scales must be numbers");
      return NULL;
    }
    parts[j] = (const float *)data;
    scales[j] = (float)s;
  }
  double lr, m;
  if (napi_get_value_double(env, argv[4], &lr) != napi_ok ||
      napi_get_value_double(env, argv[5], &m) != napi_ok) {
    napi_throw_type_error(env, NULL, "flwr-ml-native: lr and m must be numbers");
    return NULL;
  }
  float *restrict w = (float *)wp;
  float *restrict a = (float *)ap;
  const float flr = (float)lr, fm = (float)m;
  for (size_t i = 0; i < size; i++) {
    float g = scales[0] * parts[0][i];
    for (uint32_t j = 1; j < count; j++) g += scales[j] * parts[j][i];
    const float next = fm * a[i] + g;
    a[i] = next;
    w[i] = w[i] - flr * next;
  }
  return NULL;
}

/*
 * debugStep(params, x, labels, n, grads, out): trainStep, then every
 * intermediate copied to out (for the per-kernel tests): y1 [n][6][784],
 * q1 [n][6][196], y2 [n][16][100], feat [n][400], h1 [n][120], h2 [n][84],
 * z3 [n][10], d3 [n][10], dh2 [n][84], dh1 [n][120], dfeat [n][400], then of
 * the last image dz2 [16][100], dq1 [6][196], dz1 [6][784]. Returns the loss.
 */
static napi_value js_debug_step(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int n = 0;
  void *params, *x, *labels, *grads, *out;
  size_t len;
  if (argc < 6 || !chunk_size(env, argv[3], &n)) return NULL;
  const size_t per = A1 + Q1 + A2 + FEAT + H1 + H2 + OUT + OUT + H2 + H1 + FEAT;
  const size_t total = (size_t)n * per + A2 + Q1 + A1;
  if (!typed(env, argv[0], napi_float32_array, PARAMS, &params, &len, "params") ||
      !typed(env, argv[1], napi_float32_array, (size_t)n * IMG, &x, &len, "x") ||
      !typed(env, argv[2], napi_int32_array, (size_t)n, &labels, &len, "labels") ||
      !typed(env, argv[4], napi_float32_array, PARAMS, &grads, &len, "grads") ||
      !typed(env, argv[5], napi_float32_array, total, &out, &len, "out"))
    return NULL;
  const int32_t *y = (const int32_t *)labels;
  for (int i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= OUT) {
      napi_throw_range_error(env, NULL, "flwr-ml-native: label outside 0..9");
      return NULL;
    }
  Instance *inst = NULL;
  CHECK(napi_get_instance_data(env, (void **)&inst));
  Work w;
  if (!inst || !work_for(inst, &w, n, 1)) {
    napi_throw_error(env, NULL, "flwr-ml-native: out of memory");
    return NULL;
  }
  const double loss = train_step((const float *)params, (const float *)x, y, n, (float *)grads, &w);
  float *o = (float *)out;
#define PUT(src, count)                              \
  do {                                               \
    memcpy(o, (src), sizeof(float) * (size_t)(count)); \
    o += (count);                                    \
  } while (0)
  PUT(w.y1, n * A1);
  PUT(w.q1, n * Q1);
  PUT(w.y2, n * A2);
  PUT(w.feat, n * FEAT);
  PUT(w.h1, n * H1);
  PUT(w.h2, n * H2);
  PUT(w.z3, n * OUT);
  PUT(w.d3, n * OUT);
  PUT(w.dh2, n * H2);
  PUT(w.dh1, n * H1);
  PUT(w.dfeat, n * FEAT);
  PUT(w.dz2, A2);
  PUT(w.dq1, Q1);
  PUT(w.dz1, A1);
#undef PUT
  napi_value result;
  CHECK(napi_create_double(env, loss, &result));
  return result;
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Instance *inst = (Instance *)data;
  free(inst->buffer);
  free(inst);
}

/* scratchBytes(): bytes of this environment's scratch buffer (for tests). */
static napi_value js_scratch_bytes(napi_env env, napi_callback_info info) {
  (void)info;
  Instance *inst = NULL;
  CHECK(napi_get_instance_data(env, (void **)&inst));
  napi_value result;
  CHECK(napi_create_double(env, inst ? (double)inst->capacity : 0, &result));
  return result;
}

NAPI_MODULE_INIT() {
  Instance *inst = (Instance *)calloc(1, sizeof(Instance));
  if (!inst || napi_set_instance_data(env, inst, finalize_instance, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "flwr-ml-native: cannot allocate its instance data");
    return NULL;
  }
  const napi_property_descriptor props[] = {
      {"trainStep", NULL, js_train_step, NULL, NULL, NULL, napi_enumerable, NULL},
      {"forward", NULL, js_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgdStep", NULL, js_sgd_step, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scratchBytes", NULL, js_scratch_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"debugStep", NULL, js_debug_step, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value paramCount;
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  CHECK(napi_create_int32(env, PARAMS, &paramCount));
  CHECK(napi_set_named_property(env, exports, "paramCount", paramCount));
  return exports;
}
