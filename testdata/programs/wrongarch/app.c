#include <stdio.h>
int wa_value(void);
int main(void) { printf("hello from wrongarch (%d-byte pointers)\n", wa_value()); return 0; }
