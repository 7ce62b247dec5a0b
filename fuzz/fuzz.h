/* fuzz.h - what every fuzz target shares
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput(), the libFuzzer entry
 * point. Built with clang and -DES_FUZZ=ON it links libFuzzer; otherwise
 * driver.c supplies a main() that runs the target once over each file
 * named (a folder: each file in it), so the corpus and every input that
 * once crashed run as a regression test in the normal build (ctest).
 *
 * A target checks properties as well as surviving: fuzz_check() aborts,
 * so that the fuzzer keeps the input, when one does not hold.
 */
#ifndef EARSHOT_FUZZ_H
#define EARSHOT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with @what on stderr when @ok is 0. */
#define fuzz_check(ok, what) fuzz__check((ok) != 0, (what), __FILE__, __LINE__)
void fuzz__check(int ok, const char *what, const char *file, int line);

/* Checks the promises item.h makes of every item a collector emits: each
 * string valid UTF-8 with no NUL inside, kind and rating in range. Returns
 * 0 (an es_item_cb). */
int fuzz_check_item(const struct es_item *item, void *payload);

/* 1 when @s (NUL-terminated) is valid UTF-8. NULL is valid. */
int fuzz_utf8_ok(const char *s);

#endif
