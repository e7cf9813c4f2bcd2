/* One Adam step over one tensor whose two moments are stored in bfloat16 (bf16_adam.py).

   The same arithmetic as bf16_adam._adam_update_flat, in one pass over memory: float32 weights
   and gradients, bfloat16 moments widened to float32, written back with stochastic rounding
   (add 16 bits of hashed noise below the kept bits, truncate). torch.compile writes the same
   loop, but turns each float/int bit reinterpretation into a scalar round trip through memory,
   which made it 3-4x slower than torch's fused float32 Adam; here the reinterpretations are
   free and the loop is memory-bound.

   Built with -ffp-contract=off, so no multiply-add is fused and the result does not depend on
   the CPU the kernel was compiled for. */
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float widen(uint16_t bits) {
    uint32_t word = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &word, sizeof value);
    return value;
}

static inline uint16_t round_stochastic(float value, uint32_t noise) {
    uint32_t word;
    memcpy(&word, &value, sizeof word);
    return (uint16_t)((word + noise) >> 16);
}

/* Fibonacci hashing of the element index, as bf16_adam._hash_noise: the top 16 bits of the
   (wrapping) products with two odd constants. */
static inline uint32_t noise_low(uint32_t index) { return (index * 0x9E3779B1u) >> 16; }
static inline uint32_t noise_high(uint32_t index) { return (index * 739982445u) >> 16; }

/* keep_1 = 1 - beta_1 and keep_2 = 1 - beta_2 come rounded from double, as torch computes
   them. */
struct adam_scalars {
    float keep_1, beta_2, keep_2, eps, l2_decay, decoupled_factor, step_size,
        bias_correction2_sqrt;
};

/* Element i; `amsgrad` is a constant at each call, so each loop is compiled without the branch. */
static inline __attribute__((always_inline)) void update(
        int64_t i, float *restrict param, const float *restrict grad,
        uint16_t *restrict exp_avg, uint16_t *restrict exp_avg_sq,
        uint16_t *restrict max_exp_avg_sq, const int amsgrad, const struct adam_scalars s,
        const uint32_t seed) {
    float decayed = param[i] * s.decoupled_factor;
    float g = grad[i] + decayed * s.l2_decay;
    float first = widen(exp_avg[i]);
    first = first + s.keep_1 * (g - first);
    float second = widen(exp_avg_sq[i]) * s.beta_2 + g * g * s.keep_2;
    uint32_t index = (uint32_t)i + seed;
    exp_avg_sq[i] = round_stochastic(second, noise_low(index));
    if (amsgrad) {
        second = fmaxf(second, widen(max_exp_avg_sq[i]));
        max_exp_avg_sq[i] = round_stochastic(second, noise_low(index));
    }
    param[i] = decayed - s.step_size * first / (sqrtf(second) / s.bias_correction2_sqrt + s.eps);
    exp_avg[i] = round_stochastic(first, noise_high(index));
}

/* The entry point ctypes calls; max_exp_avg_sq is NULL unless amsgrad. */
void phaze_bf16_adam_step(float *restrict param, const float *restrict grad,
                          uint16_t *restrict exp_avg, uint16_t *restrict exp_avg_sq,
                          uint16_t *restrict max_exp_avg_sq, int64_t count, float keep_1,
                          float beta_2, float keep_2, float eps, float l2_decay,
                          float decoupled_factor, float step_size, float bias_correction2_sqrt,
                          uint32_t seed, int threads) {
    const struct adam_scalars s = {keep_1, beta_2, keep_2, eps, l2_decay, decoupled_factor,
                                   step_size, bias_correction2_sqrt};
    if (max_exp_avg_sq) {
#pragma omp parallel for simd schedule(static) num_threads(threads) if (threads > 1) firstprivate(s)
        for (int64_t i = 0; i < count; i++)
            update(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, 1, s, seed);
    } else {
#pragma omp parallel for simd schedule(static) num_threads(threads) if (threads > 1) firstprivate(s)
        for (int64_t i = 0; i < count; i++)
            update(i, param, grad, exp_avg, exp_avg_sq, NULL, 0, s, seed);
    }
}
