// One of two commands under cmd/: `elfpack go ./cmd/...` packs each as its own image.
package main

import (
	"fmt"

	"example.com/multi/internal/words"
)

func main() { fmt.Println(words.Greeting("greet")) }
