#include <stdio.h>
int dep_value(void);
void greet(void) { printf("hello from $ORIGIN (%d)\n", dep_value()); }
