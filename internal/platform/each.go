package platform

import (
	"errors"
	"fmt"
	"sync"
)

// Each runs fn for every supported platform at once and waits for all of
// them. The engine then compiles and packs the four platforms side by
// side (one core packs with UPX while the other compiles) instead of one
// after another. i is the platform's index in All(). Errors come back
// joined in All() order, each prefixed with its platform's name.
func Each(fn func(i int, a Arch) error) error {
	all := All()
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, a := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(i, a); err != nil {
				errs[i] = fmt.Errorf("%s: %w", a.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
