package ekmsim

import "net/http"

// lookup finds a record under the store's read lock and returns view of it,
// so that the caller encodes a copy after the lock is released.
func lookup[R, T any](s *Sim, find func(*store) (R, *apiError), view func(R) T) (T, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, aerr := find(s.st)
	if aerr != nil {
		var zero T
		return zero, aerr
	}
	return view(rec), nil
}

// mutate finds a record under the store's write lock and applies a change to
// it; apply tells the store's views what it changed.
func mutate[R, T any](s *Sim, find func(*store) (R, *apiError), apply func(R) (T, *apiError)) (T, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	rec, aerr := find(s.st)
	if aerr != nil {
		return zero, aerr
	}
	out, aerr := apply(rec)
	if aerr != nil {
		return zero, aerr
	}
	return out, nil
}

// answer writes v as a single-object envelope, or the error.
func answer[T any](w http.ResponseWriter, v T, aerr *apiError) {
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeData(w, http.StatusOK, v)
}

// orderAt finds the order the request's {id} names.
func orderAt(r *http.Request) func(*store) (*orderRec, *apiError) {
	return func(st *store) (*orderRec, *apiError) { return st.orderByPath(r.PathValue("id")) }
}

// productAt finds the master product the request's {id} names.
func productAt(r *http.Request) func(*store) (*productRec, *apiError) {
	return func(st *store) (*productRec, *apiError) { return st.productByPath(r.PathValue("id")) }
}

// variantAt finds the variant the request's {id} and {variantId} name.
func variantAt(r *http.Request) func(*store) (*variantRec, *apiError) {
	return func(st *store) (*variantRec, *apiError) {
		p, aerr := st.productByPath(r.PathValue("id"))
		if aerr != nil {
			return nil, aerr
		}
		return st.variantOf(p, r.PathValue("variantId"))
	}
}
