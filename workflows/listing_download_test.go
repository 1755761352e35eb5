package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/store"
)

// listingEnv is a test environment with the activities registered, so that each
// test mocks the ones it drives.
func listingEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.RegisterWorkflowWithOptions(ListingDownload, workflow.RegisterOptions{Name: ListingDownloadWorkflow})
	// Every download that reaches its finish checks the products its pages did not show.
	env.OnActivity(listingActs.VerifyUnseenListings, mock.Anything, activities.ListingGenerationInput{Channel: "shop", Generation: 3}).
		Return(activities.VerifyUnseenResult{}, nil).Maybe()
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

// downloadResult runs the workflow and returns its result; a failed run fails
// the test (the download ends with its outcome, never by failing).
func downloadResult(t *testing.T, env *testsuite.TestWorkflowEnvironment, in contract.ListingProgress) contract.ListingProgress {
	t.Helper()
	env.ExecuteWorkflow(ListingDownload, in)
	var res contract.ListingProgress
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("the run failed: %v", err)
	}
	return res
}

func intp(n int) *int { return &n }

// pagesState is the hub's state after done of total pages of generation 3.
func pagesState(done, total int) store.ListingDownloadState {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	eta := start.Add(time.Hour)
	return store.ListingDownloadState{InProgress: true, StartTime: &start, Generation: 3, PagesDone: done,
		PagesTotal: intp(total), ProductsTotal: intp(20 * total), ListingsSeen: 26 * done, EstimatedCompletion: &eta}
}

var (
	ok       = channel.Status{State: channel.StateOK}
	disabled = channel.Status{State: channel.StateDisabled, Reason: "channel is disabled: enable it with 'starter channel enable shop'"}
	reauth   = channel.Status{State: channel.StateNeedsReauth, Reason: "EKM rejected the refresh token: run 'starter channel reauthorise shop'"}
)

func began() activities.BeginListingResult {
	st := pagesState(0, 0)
	st.PagesTotal, st.ProductsTotal = nil, nil
	return activities.BeginListingResult{Status: ok, Began: true, State: contract.ListingDownloadState(st)}
}

func slice(done, total int, perPage time.Duration) activities.ListingPagesResult {
	return activities.ListingPagesResult{State: contract.ListingDownloadState(pagesState(done, total)), Status: ok, Pages: 1, PerPage: perPage}
}

func finished() store.ListingDownloadState {
	st := pagesState(3, 3)
	st.InProgress, st.EstimatedCompletion = false, nil
	done := st.StartTime.Add(time.Minute)
	st.CompletionTime, st.LastOutcome = &done, "completed: 78 listings, 2 marked removed, 0 with an empty and 0 with a duplicate SKU"
	return st
}

func TestListingDownloadRunsSlicesUntilTheLastPageThenFinishes(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.MatchedBy(func(in activities.BeginListingInput) bool {
		return in.Channel == "shop" && in.RunID != ""
	})).Return(began(), nil).Once()
	var inputs []activities.ListingPagesInput
	for i := 1; i <= 3; i++ {
		env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).After(time.Second).
			Run(func(args mock.Arguments) { inputs = append(inputs, args.Get(1).(activities.ListingPagesInput)) }).
			Return(slice(i, 3, time.Duration(i)*time.Millisecond), nil).Once()
	}
	env.OnActivity(listingActs.FinishListingDownload, mock.Anything, activities.ListingGenerationInput{Channel: "shop", Generation: 3}).
		Return(finished(), nil).Once()
	var mid contract.ListingProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryProgress)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		_ = v.Get(&mid)
	}, 1500*time.Millisecond)

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingCompleted || res.InProgress || res.CompletionTime == nil || res.Runs != 1 ||
		!strings.Contains(res.Message, "2 marked removed") {
		t.Fatalf("result = %+v", res)
	}
	if mid.Phase != contract.ListingDownloading || mid.PagesDone != 1 || mid.Percent() < 33 || mid.Percent() > 34 ||
		mid.EstimatedCompletion == nil || !strings.Contains(mid.Message, "page 1 of 3") {
		t.Fatalf("progress after the first slice = %+v", mid)
	}
	if len(inputs) != 3 || inputs[0].Generation != 3 || inputs[0].PerPage != 0 || inputs[2].PerPage != 2*time.Millisecond {
		t.Fatalf("page inputs = %+v: the generation and the work per page must carry from slice to slice", inputs)
	}
	env.AssertCalled(t, "VerifyUnseenListings", mock.Anything, activities.ListingGenerationInput{Channel: "shop", Generation: 3})
	if inputs[0].Slice != time.Nanosecond || inputs[1].Slice != 0 {
		t.Fatalf("slices %s then %s: the first must stop after one page, which tells the total", inputs[0].Slice, inputs[1].Slice)
	}
}

func TestListingDownloadOfADisabledChannelEndsAtOnceWithTheReason(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).
		Return(activities.BeginListingResult{Status: disabled}, nil).Once()
	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingSkipped || res.InProgress || !strings.Contains(res.Message, "starter channel enable shop") ||
		res.ChannelState != channel.StateDisabled {
		t.Fatalf("result = %+v", res)
	}
	env.AssertNotCalled(t, "DownloadListingPages", mock.Anything, mock.Anything)
}

func TestListingDownloadWaitsForReauthorisationAndWakesOnTheSignal(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).
		Return(activities.BeginListingResult{Status: reauth}, nil).Once()
	env.OnActivity(listingActs.ChannelStatus, mock.Anything, "shop").Return(ok, nil).Once()
	var begunAt time.Time
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { begunAt = env.Now() }).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(slice(3, 3, 0), nil).Once()
	env.OnActivity(listingActs.FinishListingDownload, mock.Anything, mock.Anything).Return(finished(), nil).Once()
	var waiting contract.ListingProgress
	start := env.Now()
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(QueryProgress)
		_ = v.Get(&waiting)
		env.SignalWorkflow(SignalWake, nil)
	}, 2*time.Second)

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if waiting.Phase != contract.ListingWaiting || waiting.ChannelState != channel.StateNeedsReauth || !strings.Contains(waiting.Message, "reauthorise") {
		t.Fatalf("progress while waiting = %+v", waiting)
	}
	if waited := begunAt.Sub(start); waited >= listingPoll {
		t.Fatalf("began after %s: the wake signal did not end the wait before the %s poll", waited, listingPoll)
	}
	if res.Phase != contract.ListingCompleted {
		t.Fatalf("result = %+v", res)
	}
}

func TestListingDownloadStopsWhenTheChannelIsDisabledMidRunAndRemovesNothing(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(slice(1, 3, 0), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(activities.ListingPagesResult{},
		temporal.NewNonRetryableApplicationError("channel is disabled: enable it with 'starter channel enable shop'", activities.ErrTypeDisabled, nil)).Once()
	ended := pagesState(1, 3)
	ended.InProgress = false
	env.OnActivity(listingActs.EndListingDownload, mock.Anything, mock.MatchedBy(func(in activities.EndListingInput) bool {
		return in.Generation == 3 && !in.Failed && strings.HasPrefix(in.Outcome, "stopped: channel is disabled")
	})).Return(ended, nil).Once()

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingStopped || res.InProgress || !strings.Contains(res.Message, "starter channel enable shop") {
		t.Fatalf("result = %+v", res)
	}
	env.AssertNotCalled(t, "FinishListingDownload", mock.Anything, mock.Anything)
}

func TestListingDownloadResumesTheSameGenerationAfterReauthorisationMidRun(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(slice(1, 3, 0), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(activities.ListingPagesResult{},
		temporal.NewNonRetryableApplicationError("EKM rejected the refresh token", activities.ErrTypeNeedsReauth, nil)).Once()
	env.OnActivity(listingActs.ChannelStatus, mock.Anything, "shop").Return(reauth, nil).Twice()
	env.OnActivity(listingActs.ChannelStatus, mock.Anything, "shop").Return(ok, nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.MatchedBy(func(in activities.ListingPagesInput) bool {
		return in.Generation == 3
	})).Return(slice(3, 3, 0), nil).Once()
	env.OnActivity(listingActs.FinishListingDownload, mock.Anything, mock.Anything).Return(finished(), nil).Once()

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingCompleted {
		t.Fatalf("result = %+v", res)
	}
}

func TestListingDownloadRecordsAFailureWhenEKMRefusesAndDoesNotFailTheRun(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(activities.ListingPagesResult{},
		temporal.NewNonRetryableApplicationError("GET /api/v1/products: 400 The field limit must be between 1 and 20.", activities.ErrTypeRejected, nil)).Once()
	env.OnActivity(listingActs.EndListingDownload, mock.Anything, mock.MatchedBy(func(in activities.EndListingInput) bool {
		return in.Failed && strings.Contains(in.Outcome, "limit must be between")
	})).Return(store.ListingDownloadState{Generation: 3}, nil).Once()

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingFailed || !strings.Contains(res.Message, "limit must be between") {
		t.Fatalf("result = %+v", res)
	}
}

func TestListingDownloadContinuesAsNewCarryingTheGeneration(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(slice(1, 5, 7*time.Millisecond), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(slice(2, 5, 9*time.Millisecond), nil).Once()
	env.ExecuteWorkflow(ListingDownload, contract.ListingProgress{Channel: "shop", Slice: time.Second, SlicesPerRun: 2})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	var next contract.ListingProgress
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Channel != "shop" || next.Slice != time.Second || next.SlicesPerRun != 2 || next.Downloading != 3 ||
		next.PerPage != 9*time.Millisecond || next.Runs != 1 || next.PagesDone != 2 {
		t.Fatalf("next run's state = %+v", next)
	}
}

func TestListingDownloadResumedRunGoesOnWithoutBeginning(t *testing.T) {
	env := listingEnv(t)
	resumed := contract.ListingProgress{Channel: "shop", Phase: contract.ListingDownloading, ListingDownloadState: contract.ListingDownloadState(pagesState(2, 3)),
		Downloading: 3, PerPage: 9 * time.Millisecond, Runs: 1}
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.MatchedBy(func(in activities.ListingPagesInput) bool {
		return in.Generation == 3 && in.PerPage == 9*time.Millisecond
	})).Return(slice(3, 3, 0), nil).Once()
	env.OnActivity(listingActs.FinishListingDownload, mock.Anything, mock.Anything).Return(finished(), nil).Once()
	res := downloadResult(t, env, resumed)
	if res.Phase != contract.ListingCompleted || res.Runs != 2 {
		t.Fatalf("result = %+v", res)
	}
	env.AssertNotCalled(t, "BeginListingDownload", mock.Anything, mock.Anything)
}

func TestListingDownloadRefusesAnInputWithoutChannel(t *testing.T) {
	env := listingEnv(t)
	env.ExecuteWorkflow(ListingDownload, contract.ListingProgress{})
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(app.Error(), "channel") {
		t.Fatalf("error = %v", err)
	}
}

func TestListingDownloadWaitingForConsentEndsQuietlyWhenTheChannelIsRemoved(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).
		Return(activities.BeginListingResult{Status: reauth}, nil).Once()
	env.OnActivity(listingActs.ChannelStatus, mock.Anything, "shop").Return(channel.Status{},
		temporal.NewNonRetryableApplicationError("channel shop: not found", activities.ErrTypeChannelGone, nil)).Once()
	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingStopped || !strings.Contains(res.Message, "removed") {
		t.Fatalf("result = %+v", res)
	}
}

// EKM refuses the consent while the hub still says the channel may run (a 403 the
// hub does not record): the run ends, failed and removing nothing, instead of
// resuming into the same refusal again and again.
func TestListingDownloadEndsWhenEKMRefusesConsentTheHubDoesNotKnow(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(activities.ListingPagesResult{},
		temporal.NewNonRetryableApplicationError("ekm: GET /api/v1/products: forbidden (HTTP 403)", activities.ErrTypeNeedsReauth, nil)).Once()
	env.OnActivity(listingActs.ChannelStatus, mock.Anything, "shop").Return(ok, nil).Once()
	env.OnActivity(listingActs.EndListingDownload, mock.Anything, mock.MatchedBy(func(in activities.EndListingInput) bool {
		return in.Failed && strings.Contains(in.Outcome, "forbidden")
	})).Return(store.ListingDownloadState{Generation: 3}, nil).Once()

	res := downloadResult(t, env, contract.ListingProgress{Channel: "shop"})
	if res.Phase != contract.ListingFailed || !strings.Contains(res.Message, "forbidden") {
		t.Fatalf("result = %+v", res)
	}
	env.AssertNotCalled(t, "FinishListingDownload", mock.Anything, mock.Anything)
}

// listingActs names the activities the listing download calls, for the mocks
// (methods of a nil *Activities: only their names are used).
var listingActs *activities.Activities
