package spelling

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"reviews", "reviews", 0},
		{"reviews", "review", 1},
		{"reveiws", "reviews", 2},
		{"kitten", "sitting", 3},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"ratings", "reviews", "details", "review"}
	for _, c := range []struct {
		word string
		max  int
		want string
	}{
		{"reviewz", 2, "reviews"}, // one edit from reviews, two from review
		{"reviewx", 1, "reviews"}, // ties with review at one edit: the first wins
		{"productpage", 2, ""},    // nothing close
		{"detials", 1, ""},        // two edits is over the limit
		{"detials", 2, "details"},
	} {
		if got := Closest(c.word, names, c.max); got != c.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", c.word, c.max, got, c.want)
		}
	}
	if got := Closest("x", nil, 2); got != "" {
		t.Errorf("Closest with no candidates = %q, want \"\"", got)
	}
}

// TestClosestSkipsOnlyWhatCannotWin: Closest leaves out candidates whose
// length alone rules them out; the answer must be the one measuring every
// candidate gives.
func TestClosestSkipsOnlyWhatCannotWin(t *testing.T) {
	words := []string{"", "a", "ab", "abc", "abcd", "reviews", "review", "reveiws", "ratings", "svc-006", "svc-006-typo", "svc-016", "productpage", "details", "detail"}
	for _, w := range words {
		for maxEdits := 0; maxEdits <= 4; maxEdits++ {
			best, bestD := "", maxEdits+1
			for _, c := range words {
				if d := Distance(w, c); d < bestD {
					best, bestD = c, d
				}
			}
			if got := Closest(w, words, maxEdits); got != best {
				t.Errorf("Closest(%q, max %d) = %q, measuring all gives %q", w, maxEdits, got, best)
			}
		}
	}
}
