package semver

// This file is one algorithm, V8's TimSort, ported whole for Sort; it is longer
// than our files usually are for the reason mergeLow explains.

// timSort is Array.prototype.sort of node 20's V8 (11.3; array-sort.tq, after
// CPython's listsort): TimSort with natural runs extended to minrun by binary
// insertion, galloping merges and the same stack invariants, so that it calls
// cmp on the same pairs in the same order. (Later V8 versions sort lists of
// fewer than 10 elements by binary insertion alone, which orders inconsistent
// ties differently; the differential test says so if the host's node does.)
func timSort[T any](a []T, cmp func(x, y T) int) {
	n := len(a)
	if n < 2 {
		return
	}
	s := &sortState[T]{a: a, cmp: cmp, minGallop: minGallopWins}
	minRun := minRunLength(n)
	for low, remaining := 0, n; remaining != 0; {
		run := s.countAndMakeRun(low, low+remaining)
		if run < minRun {
			forced := min(minRun, remaining)
			s.binaryInsertionSort(low, low+run, low+forced)
			run = forced
		}
		s.runs = append(s.runs, sortRun{low, run})
		s.mergeCollapse()
		low += run
		remaining -= run
	}
	s.mergeForceCollapse()
}

const minGallopWins = 7 // kMinGallopWins

type sortRun struct{ base, length int }

type sortState[T any] struct {
	a         []T
	cmp       func(x, y T) int
	minGallop int
	runs      []sortRun
	tmp       []T
}

// binaryInsertionSort sorts a[low:high], of which a[low:start] is sorted.
func (s *sortState[T]) binaryInsertionSort(low, start, high int) {
	if low == start {
		start++
	}
	for ; start < high; start++ {
		left, right := low, start
		pivot := s.a[right]
		for left < right {
			mid := left + (right-left)>>1
			if s.cmp(pivot, s.a[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(s.a[left+1:start+1], s.a[left:start])
		s.a[left] = pivot
	}
}

// countAndMakeRun returns the length of the run at a[low:high], reversing it
// in place first if it is strictly descending.
func (s *sortState[T]) countAndMakeRun(low, high int) int {
	if low+1 == high {
		return 1
	}
	run := 2
	descending := s.cmp(s.a[low+1], s.a[low]) < 0
	prev := s.a[low+1]
	for i := low + 2; i < high; i++ {
		order := s.cmp(s.a[i], prev)
		if descending && order >= 0 || !descending && order < 0 {
			break
		}
		prev = s.a[i]
		run++
	}
	if descending {
		for i, j := low, low+run-1; i < j; i, j = i+1, j-1 {
			s.a[i], s.a[j] = s.a[j], s.a[i]
		}
	}
	return run
}

// minRunLength is ComputeMinRunLength.
func minRunLength(n int) int {
	r := 0
	for n >= 64 {
		r |= n & 1
		n >>= 1
	}
	return n + r
}

// mergeCollapse merges runs until the stack invariants hold again:
// runs[i-3] > runs[i-2] + runs[i-1] and runs[i-2] > runs[i-1].
func (s *sortState[T]) mergeCollapse() {
	for len(s.runs) > 1 {
		n := len(s.runs) - 2
		if !s.invariantHolds(n+1) || !s.invariantHolds(n) {
			if s.runs[n-1].length < s.runs[n+1].length {
				n--
			}
		} else if s.runs[n].length > s.runs[n+1].length {
			return
		}
		s.mergeAt(n)
	}
}

// invariantHolds is RunInvariantEstablished.
func (s *sortState[T]) invariantHolds(n int) bool {
	if n < 2 {
		return true
	}
	return s.runs[n-2].length > s.runs[n-1].length+s.runs[n].length
}

func (s *sortState[T]) mergeForceCollapse() {
	for len(s.runs) > 1 {
		n := len(s.runs) - 2
		if n > 0 && s.runs[n-1].length < s.runs[n+1].length {
			n--
		}
		s.mergeAt(n)
	}
}

// mergeAt merges runs i and i+1.
func (s *sortState[T]) mergeAt(i int) {
	baseA, lenA := s.runs[i].base, s.runs[i].length
	baseB, lenB := s.runs[i+1].base, s.runs[i+1].length
	s.runs[i].length = lenA + lenB
	s.runs = append(s.runs[:i+1], s.runs[i+2:]...)

	// Elements of a already below b's first, and of b above a's last, stay.
	k := s.gallopRight(s.a, s.a[baseB], baseA, lenA, 0)
	baseA += k
	lenA -= k
	if lenA == 0 {
		return
	}
	lenB = s.gallopLeft(s.a, s.a[baseA+lenA-1], baseB, lenB, lenB-1)
	if lenB == 0 {
		return
	}
	if lenA <= lenB {
		s.mergeLow(baseA, lenA, baseB, lenB)
	} else {
		s.mergeHigh(baseA, lenA, baseB, lenB)
	}
}

// gallopLeft returns k in [0, length] such that arr[base+k-1] < key <= arr[base+k],
// searching from base+hint.
func (s *sortState[T]) gallopLeft(arr []T, key T, base, length, hint int) int {
	lastOfs, ofs := 0, 1
	if s.cmp(arr[base+hint], key) < 0 {
		maxOfs := length - hint
		for ofs < maxOfs && s.cmp(arr[base+hint+ofs], key) < 0 {
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs += hint
		ofs += hint
	} else {
		maxOfs := hint + 1
		for ofs < maxOfs && s.cmp(arr[base+hint-ofs], key) >= 0 {
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs, ofs = hint-ofs, hint-lastOfs
	}
	for lastOfs++; lastOfs < ofs; {
		m := lastOfs + (ofs-lastOfs)>>1
		if s.cmp(arr[base+m], key) < 0 {
			lastOfs = m + 1
		} else {
			ofs = m
		}
	}
	return ofs
}

// gallopRight returns k in [0, length] such that arr[base+k-1] <= key < arr[base+k],
// searching from base+hint.
func (s *sortState[T]) gallopRight(arr []T, key T, base, length, hint int) int {
	lastOfs, ofs := 0, 1
	if s.cmp(key, arr[base+hint]) < 0 {
		maxOfs := hint + 1
		for ofs < maxOfs && s.cmp(key, arr[base+hint-ofs]) < 0 {
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs, ofs = hint-ofs, hint-lastOfs
	} else {
		maxOfs := length - hint
		for ofs < maxOfs && s.cmp(key, arr[base+hint+ofs]) >= 0 {
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs += hint
		ofs += hint
	}
	for lastOfs++; lastOfs < ofs; {
		m := lastOfs + (ofs-lastOfs)>>1
		if s.cmp(key, arr[base+m]) < 0 {
			ofs = m
		} else {
			lastOfs = m + 1
		}
	}
	return ofs
}

func (s *sortState[T]) tempOf(n int) []T {
	if cap(s.tmp) < n {
		s.tmp = make([]T, max(n, 32))
	}
	return s.tmp[:cap(s.tmp)]
}

// mergeLow merges a[baseA:baseA+lenA] and the run after it, lenA <= lenB, from
// the left, with a copy of the first run. It is long because it follows V8's
// MergeLow statement by statement, so that the two can be compared line by line;
// splitting it would hide the correspondence that makes the port checkable.
func (s *sortState[T]) mergeLow(baseA, lenA, baseB, lenB int) {
	a := s.a
	tmp := s.tempOf(lenA)
	copy(tmp, a[baseA:baseA+lenA])
	dest, cursorTmp, cursorB := baseA, 0, baseB

	a[dest] = a[cursorB]
	dest++
	cursorB++
	lenB--

	copyB := func() { // a's last element goes after all of b
		copy(a[dest:dest+lenB], a[cursorB:cursorB+lenB])
		a[dest+lenB] = tmp[cursorTmp]
	}
	succeed := func() {
		copy(a[dest:dest+lenA], tmp[cursorTmp:cursorTmp+lenA])
	}
	if lenB == 0 {
		succeed()
		return
	}
	if lenA == 1 {
		copyB()
		return
	}
	minGallop := s.minGallop
	for {
		winsA, winsB := 0, 0
		for {
			if s.cmp(a[cursorB], tmp[cursorTmp]) < 0 {
				a[dest] = a[cursorB]
				dest++
				cursorB++
				winsB++
				lenB--
				winsA = 0
				if lenB == 0 {
					succeed()
					return
				}
				if winsB >= minGallop {
					break
				}
			} else {
				a[dest] = tmp[cursorTmp]
				dest++
				cursorTmp++
				winsA++
				lenA--
				winsB = 0
				if lenA == 1 {
					copyB()
					return
				}
				if winsA >= minGallop {
					break
				}
			}
		}
		minGallop++
		for first := true; first || winsA >= minGallopWins || winsB >= minGallopWins; first = false {
			minGallop = max(1, minGallop-1)
			s.minGallop = minGallop

			winsA = s.gallopRight(tmp, a[cursorB], cursorTmp, lenA, 0)
			if winsA > 0 {
				copy(a[dest:dest+winsA], tmp[cursorTmp:cursorTmp+winsA])
				dest += winsA
				cursorTmp += winsA
				lenA -= winsA
				if lenA == 1 {
					copyB()
					return
				}
				if lenA == 0 { // only with an inconsistent comparison
					succeed()
					return
				}
			}
			a[dest] = a[cursorB]
			dest++
			cursorB++
			lenB--
			if lenB == 0 {
				succeed()
				return
			}

			winsB = s.gallopLeft(a, tmp[cursorTmp], cursorB, lenB, 0)
			if winsB > 0 {
				copy(a[dest:dest+winsB], a[cursorB:cursorB+winsB])
				dest += winsB
				cursorB += winsB
				lenB -= winsB
				if lenB == 0 {
					succeed()
					return
				}
			}
			a[dest] = tmp[cursorTmp]
			dest++
			cursorTmp++
			lenA--
			if lenA == 1 {
				copyB()
				return
			}
		}
		minGallop++ // leaving galloping mode costs
		s.minGallop = minGallop
	}
}

// mergeHigh merges a[baseA:baseA+lenA] and the run after it, lenA >= lenB, from
// the right, with a copy of the second run. Long for the reason mergeLow is.
func (s *sortState[T]) mergeHigh(baseA, lenA, baseB, lenB int) {
	a := s.a
	tmp := s.tempOf(lenB)
	copy(tmp, a[baseB:baseB+lenB])
	dest, cursorTmp, cursorA := baseB+lenB-1, lenB-1, baseA+lenA-1

	a[dest] = a[cursorA]
	dest--
	cursorA--
	lenA--

	copyA := func() { // b's first element goes before all of a
		dest -= lenA
		cursorA -= lenA
		copy(a[dest+1:dest+1+lenA], a[cursorA+1:cursorA+1+lenA])
		a[dest] = tmp[cursorTmp]
	}
	succeed := func() {
		copy(a[dest-(lenB-1):dest+1], tmp[:lenB])
	}
	if lenA == 0 {
		succeed()
		return
	}
	if lenB == 1 {
		copyA()
		return
	}
	minGallop := s.minGallop
	for {
		winsA, winsB := 0, 0
		for {
			if s.cmp(tmp[cursorTmp], a[cursorA]) < 0 {
				a[dest] = a[cursorA]
				dest--
				cursorA--
				winsA++
				lenA--
				winsB = 0
				if lenA == 0 {
					succeed()
					return
				}
				if winsA >= minGallop {
					break
				}
			} else {
				a[dest] = tmp[cursorTmp]
				dest--
				cursorTmp--
				winsB++
				lenB--
				winsA = 0
				if lenB == 1 {
					copyA()
					return
				}
				if winsB >= minGallop {
					break
				}
			}
		}
		minGallop++
		for first := true; first || winsA >= minGallopWins || winsB >= minGallopWins; first = false {
			minGallop = max(1, minGallop-1)
			s.minGallop = minGallop

			k := s.gallopRight(a, tmp[cursorTmp], baseA, lenA, lenA-1)
			winsA = lenA - k
			if winsA > 0 {
				dest -= winsA
				cursorA -= winsA
				copy(a[dest+1:dest+1+winsA], a[cursorA+1:cursorA+1+winsA])
				lenA -= winsA
				if lenA == 0 {
					succeed()
					return
				}
			}
			a[dest] = tmp[cursorTmp]
			dest--
			cursorTmp--
			lenB--
			if lenB == 1 {
				copyA()
				return
			}

			k = s.gallopLeft(tmp, a[cursorA], 0, lenB, lenB-1)
			winsB = lenB - k
			if winsB > 0 {
				dest -= winsB
				cursorTmp -= winsB
				copy(a[dest+1:dest+1+winsB], tmp[cursorTmp+1:cursorTmp+1+winsB])
				lenB -= winsB
				if lenB == 1 {
					copyA()
					return
				}
				if lenB == 0 { // only with an inconsistent comparison
					succeed()
					return
				}
			}
			a[dest] = a[cursorA]
			dest--
			cursorA--
			lenA--
			if lenA == 0 {
				succeed()
				return
			}
		}
		minGallop++
		s.minGallop = minGallop
	}
}
