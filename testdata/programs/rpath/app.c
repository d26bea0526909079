#include <stdio.h>
int outer_value(void);
int main(void) { printf("hello from rpath (%d)\n", outer_value()); return 0; }
