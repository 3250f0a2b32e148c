/* Force-included into both builds of each libaco test program: stdout is
 * line-buffered even into a file, so what a program printed before it aborts
 * (tutorials 4 and 5 abort on purpose) is compared too. */
#include <stdio.h>

__attribute__((constructor)) static void aco_compare_line_buffered(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}
