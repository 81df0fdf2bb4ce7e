// go_goroutines - the experiment's concurrent Go client: a goroutine per
// id, joined with a sync.WaitGroup.
//
//	go_goroutines [-identity] URL_TEMPLATE ID|FIRST-LAST...
//
// Every request starts at once through the default http.Client and its
// default Transport, which speaks HTTP/2 when the server offers it (as
// pokeapi.co and the bench's nginx do): each goroutine that finds no usable
// connection dials one, and once the first says h2 the requests share it
// (a new one when a connection's streams are all taken); over HTTP/1.1
// nearly every goroutine would keep its own. The CA comes from
// SSL_CERT_FILE rather than a TLSClientConfig of our own, which would turn
// HTTP/2 off unless ForceAttemptHTTP2 were set: this is Go as it comes, not
// a tuned client. Each body is decoded into a struct with just Name; the
// names are printed in id order once all are in. "{id}" in URL_TEMPLATE is
// replaced by each id.
//
// The default Transport asks for gzip and inflates it, as it would on the
// internet; -identity turns that off (DisableCompression) for bench/run's
// "same data" settings.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
)

type pokemon struct {
	Name string `json:"name"`
}

func main() {
	identity := flag.Bool("identity", false, "ask for uncompressed bodies")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_goroutines [-identity] URL_TEMPLATE ID|FIRST-LAST...")
		os.Exit(2)
	}
	if *identity {
		http.DefaultTransport.(*http.Transport).DisableCompression = true
	}
	template := flag.Arg(0)
	ids := parseIDs(flag.Args()[1:])
	names := make([]string, len(ids))
	errs := make([]error, len(ids))

	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func(i, id int) {
			defer wg.Done()
			url := strings.Replace(template, "{id}", strconv.Itoa(id), 1)
			names[i], errs[i] = fetch(url)
		}(i, id)
	}
	wg.Wait()

	failed := false
	for i, name := range names {
		if errs[i] != nil {
			fmt.Fprintf(os.Stderr, "%d: %v\n", ids[i], errs[i])
			failed = true
			continue
		}
		fmt.Println(name)
	}
	if failed {
		os.Exit(1)
	}
}

func fetch(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// Read the body to the end so that the Transport may reuse the
	// connection.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s", resp.Status)
	}
	var p pokemon
	if err := json.Unmarshal(body, &p); err != nil {
		return "", err
	}
	return p.Name, nil
}

// parseIDs turns "7" and "1-150" arguments into a list of ids.
func parseIDs(args []string) []int {
	var ids []int
	for _, a := range args {
		lo, hi, isRange := strings.Cut(a, "-")
		first, err1 := strconv.Atoi(lo)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || last < first {
			fmt.Fprintf(os.Stderr, "bad id or range %q\n", a)
			os.Exit(2)
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	return ids
}
