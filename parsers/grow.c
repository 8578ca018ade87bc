/* grow — array growth by doubling; aborts when memory runs out. */
#include "parsers/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow_array(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / size)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    p = realloc(p, ncap * size);
    if (!p)
        abort(); /* out-of-memory policy: abort (docs/DESIGN.md) */
    *cap = ncap;
    return p;
}
