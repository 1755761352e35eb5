package channel

import (
	"math"
	"time"
)

// ETAInput is what the listing download knows when it estimates its completion.
type ETAInput struct {
	Now       time.Time
	PagesLeft int
	Rate      float64       // requests per second the shop's rate budget sustains
	Burst     float64       // requests the budget allows at once, now
	PerPage   time.Duration // observed time to fetch and store one page, budget waits excluded
	// Observed is the pages a second the download has had of the budget so far,
	// its first burst left out; 0 while too few pages tell.
	Observed   float64
	TotalKnown bool // false until the first page reports the total
}

// EstimateCompletion returns when the listing download should finish, or the zero
// time when it cannot tell yet (§5: "Unknown" until the first page reports the
// total). It uses the rate the budget allows, or the pace the download has had
// when that is slower: orders and stock go first, so while they use the budget
// the download gets only what they leave, and a download that kept the leak's
// pace would be promised too soon. The pace leaves the first burst out: a
// download that started on an empty bucket would otherwise look far faster than
// it will be. Pages are fetched one after another, so the slower of the budget
// and the work itself bounds it.
func EstimateCompletion(in ETAInput) time.Time {
	if !in.TotalKnown {
		return time.Time{}
	}
	if in.PagesLeft <= 0 {
		return in.Now
	}
	rate := in.Rate
	if in.Observed > 0 && (rate <= 0 || in.Observed < rate) {
		rate = in.Observed
	}
	var byBudget float64
	if rate > 0 {
		byBudget = math.Max(0, float64(in.PagesLeft)-math.Floor(in.Burst)) / rate
	}
	byWork := float64(in.PagesLeft) * in.PerPage.Seconds()
	return in.Now.Add(time.Duration(math.Max(byBudget, byWork) * float64(time.Second)))
}
