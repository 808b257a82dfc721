// htpasswd: prints one line "USER:BCRYPT-HASH" for the registry's htpasswd authentication (the
// distribution registry only accepts bcrypt; no Debian or npm package here provides it).
//
//	htpasswd USER PASSWORD >> htpasswd
package main

import (
	"fmt"
	"os"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: htpasswd USER PASSWORD")
		os.Exit(2)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(os.Args[2]), bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s:%s\n", os.Args[1], h)
}
