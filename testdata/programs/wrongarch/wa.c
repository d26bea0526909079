int wa_value(void) { return (int)sizeof(void *); }
