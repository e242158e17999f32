package classify

import (
	"slices"
	"strings"
	"unicode"
)

// normalize folds text into the form keywords are matched against:
// full-width ASCII becomes half-width, Latin letters are lower-cased, and
// everything that is not a letter or a digit (spaces, punctuation, symbols,
// emoji) is dropped. Chinese has no spaces between words, so dropping them
// joins what an inspector split with a space ("路灯 不亮" → "路灯不亮").
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\u3000':
			continue // ideographic space
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0 // full-width ASCII → ASCII
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// hit is one category a keyword scores for.
type hit struct {
	cat int // index into Classifier.cats
	w   float64
}

// pattern is one distinct normalised string of the dictionary: a keyword
// (hits), a stopword (stop), a confusion-rule word, or several at once.
type pattern struct {
	text     string
	hits     []hit
	stop     bool      // takes part in longest-match, scores nothing
	rank     float64   // the largest weight of hits: breaks length ties
	refs     []ruleRef // confusion rules that mention the pattern
	resolved bool      // marks a report of a problem already dealt with
}

// ruleRef says that a pattern satisfies group g of rule r (g < 0: it is one
// of the rule's unless words).
type ruleRef struct {
	r int32
	g int16
}

// matcher finds every dictionary pattern in a text with a rune trie walked
// from each start position. Keywords are short (a handful of runes), so this
// is O(len(text) × longest keyword) map look-ups: a few hundred nanoseconds
// for a patrol message.
type matcher struct {
	edges map[uint64]int32 // node<<32 | rune → child node
	term  []int32          // node → pattern id ending there, or -1
	pats  []pattern
	ids   map[string]int32 // normalised text → pattern id
}

func newMatcher() *matcher {
	return &matcher{edges: map[uint64]int32{}, term: []int32{-1}, ids: map[string]int32{}}
}

// add registers s (already normalised, non-empty) and returns its id.
func (m *matcher) add(s string) int32 {
	if id, ok := m.ids[s]; ok {
		return id
	}
	id := int32(len(m.pats))
	m.pats = append(m.pats, pattern{text: s})
	m.ids[s] = id
	node := int32(0)
	for _, r := range s {
		key := uint64(node)<<32 | uint64(uint32(r))
		next, ok := m.edges[key]
		if !ok {
			next = int32(len(m.term))
			m.term = append(m.term, -1)
			m.edges[key] = next
		}
		node = next
	}
	m.term[node] = id
	return id
}

// match is one occurrence of a pattern: runes [start, end) of the text.
type match struct {
	start, end int
	pat        int32
}

// find appends every occurrence of every pattern in text to dst.
func (m *matcher) find(text []rune, dst []match) []match {
	for i := range text {
		node := int32(0)
		for j := i; j < len(text); j++ {
			next, ok := m.edges[uint64(node)<<32|uint64(uint32(text[j]))]
			if !ok {
				break
			}
			node = next
			if p := m.term[node]; p >= 0 {
				dst = append(dst, match{start: i, end: j + 1, pat: p})
			}
		}
	}
	return dst
}

// longest keeps the occurrences that score: keyword and stopword matches,
// chosen longest first so that each rune of the text counts at most once and
// a longer phrase hides the shorter keywords inside it ("垃圾桶满" hides
// "垃圾"). Ties go to the pattern with the higher rank (its largest weight),
// then to the earlier one. It reorders ms.
func (m *matcher) longest(ms []match, n int) []match {
	slices.SortFunc(ms, func(a, b match) int {
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return lb - la
		}
		if ra, rb := m.pats[a.pat].rank, m.pats[b.pat].rank; ra != rb {
			if ra > rb {
				return -1
			}
			return 1
		}
		return a.start - b.start
	})
	var covered [128]bool
	var cov []bool
	if n <= len(covered) {
		cov = covered[:n]
	} else {
		cov = make([]bool, n)
	}
	kept := ms[:0]
	for _, x := range ms {
		p := &m.pats[x.pat]
		if len(p.hits) == 0 && !p.stop {
			continue // a rule word only
		}
		free := true
		for i := x.start; i < x.end; i++ {
			if cov[i] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for i := x.start; i < x.end; i++ {
			cov[i] = true
		}
		kept = append(kept, x)
	}
	return kept
}
