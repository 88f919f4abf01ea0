// Package spelling finds the name an author probably meant when the one
// they wrote does not exist: a misspelt field, a Service name with a typo.
package spelling

import "strings"

// Distance is the Levenshtein distance between a and b: the fewest
// single-byte insertions, deletions and substitutions that turn one into
// the other.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate with the fewest edits from word, if that
// is at most maxEdits; "" otherwise. The first of equally close candidates
// wins, so callers pass them in a stable order.
func Closest(word string, candidates []string, maxEdits int) string {
	best, bestD := "", maxEdits+1
	for _, c := range candidates {
		// The distance is at least the difference in length: a
		// candidate that cannot beat the best so far is not measured
		// (most are not, and a mesh with many typos asks often).
		if diff := len(word) - len(c); diff >= bestD || -diff >= bestD {
			continue
		}
		if d := Distance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// ClosestFold is Closest ignoring case (a mistyped capital is still the
// same word); it returns the candidate as written.
func ClosestFold(word string, candidates []string, maxEdits int) string {
	word = strings.ToLower(word)
	best, bestD := "", maxEdits+1
	for _, c := range candidates {
		if d := Distance(word, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
