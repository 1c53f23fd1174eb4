package commentary

import "strings"

// BankWords returns every word of the English phrase bank's literal text,
// lower-cased, for the external tests.
func BankWords() map[string]bool {
	e, err := newEngine("en")
	if err != nil {
		panic(err)
	}
	words := map[string]bool{}
	for _, phs := range e.bank {
		for _, p := range phs {
			for _, l := range p.lits {
				for _, w := range splitWords(l) {
					words[strings.ToLower(w)] = true
				}
			}
		}
	}
	return words
}
