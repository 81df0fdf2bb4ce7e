/*
 * rng.h - xorshift64*: the reproducible random numbers of the unit tests'
 * splits and fixtures. A test that wants its own sequence defines
 * RNG_SEED before including this (once, in one .c file).
 */
#ifndef POKEFETCH_TESTS_RNG_H
#define POKEFETCH_TESTS_RNG_H

#include <stdint.h>

#ifndef RNG_SEED
#define RNG_SEED 0x9e3779b97f4a7c15u
#endif

static uint64_t rng = RNG_SEED;

static uint64_t
rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

#endif
