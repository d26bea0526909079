/* Prints which build it is: the tests check that the program really ran. */
#include <stdio.h>
#ifndef GREETING
#define GREETING "hello from glibc-dynamic"
#endif
int main(void) { puts(GREETING); return 0; }
