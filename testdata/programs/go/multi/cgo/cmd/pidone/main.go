// A cgo command (it needs libc through ld.so): two of them from one root share their base layer.
package main

// #include <unistd.h>
import "C"
import "fmt"

func main() { fmt.Println("pidone", C.getpid() > 0) }
