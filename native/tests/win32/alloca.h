/* alloca.h for mingw-w64, which declares alloca in malloc.h: lets the C tests
 * and the bench build for Windows unchanged (only that build adds this folder
 * to the include path). */
#ifndef ACO_WIN32_ALLOCA_H
#define ACO_WIN32_ALLOCA_H
#include <malloc.h>
#endif
