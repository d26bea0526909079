// The same with one cgo call: the binary then needs libc through ld.so.
package main

// #include <unistd.h>
import "C"
import "fmt"

func main() { fmt.Println("hello from cgo, pid", C.getpid() > 0) }
