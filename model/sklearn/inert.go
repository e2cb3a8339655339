package sklearn

// Classes that fitted estimators carry but predict never uses: random states and
// loss objects. They load as plain data and nothing of them runs.
func init() {
	for _, c := range []string{
		// numpy random state (GradientBoosting's _rng, random_state objects).
		"numpy.random._pickle.__randomstate_ctor",
		"numpy.random._pickle.__bit_generator_ctor",
		"numpy.random._pickle.__generator_ctor",
		"numpy.random.mtrand.RandomState",
		"numpy.random._mt19937.MT19937",
		"numpy.random._pcg64.PCG64",
		// GradientBoosting losses up to scikit-learn 1.3.
		"sklearn.ensemble._gb_losses.LeastSquaresError",
		"sklearn.ensemble._gb_losses.LeastAbsoluteError",
		"sklearn.ensemble._gb_losses.HuberLossFunction",
		"sklearn.ensemble._gb_losses.QuantileLossFunction",
		"sklearn.ensemble._gb_losses.BinomialDeviance",
		"sklearn.ensemble._gb_losses.MultinomialDeviance",
		"sklearn.ensemble._gb_losses.ExponentialLoss",
		// The common losses and links (HistGradientBoosting, GradientBoosting >= 1.4).
		"sklearn._loss.loss.HalfSquaredError",
		"sklearn._loss.loss.AbsoluteError",
		"sklearn._loss.loss.PinballLoss",
		"sklearn._loss.loss.HuberLoss",
		"sklearn._loss.loss.HalfPoissonLoss",
		"sklearn._loss.loss.HalfGammaLoss",
		"sklearn._loss.loss.HalfTweedieLoss",
		"sklearn._loss.loss.HalfTweedieLossIdentity",
		"sklearn._loss.loss.HalfBinomialLoss",
		"sklearn._loss.loss.HalfMultinomialLoss",
		"sklearn._loss.loss.ExponentialLoss",
		"sklearn._loss.link.IdentityLink",
		"sklearn._loss.link.LogLink",
		"sklearn._loss.link.LogitLink",
		"sklearn._loss.link.HalfLogitLink",
		"sklearn._loss.link.MultinomialLogit",
		"sklearn._loss.link.Interval",
		"sklearn._loss._loss.CyHalfSquaredError",
		"sklearn._loss._loss.CyAbsoluteError",
		"sklearn._loss._loss.CyPinballLoss",
		"sklearn._loss._loss.CyHuberLoss",
		"sklearn._loss._loss.CyHalfPoissonLoss",
		"sklearn._loss._loss.CyHalfGammaLoss",
		"sklearn._loss._loss.CyHalfTweedieLoss",
		"sklearn._loss._loss.CyHalfTweedieLossIdentity",
		"sklearn._loss._loss.CyHalfBinomialLoss",
		"sklearn._loss._loss.CyHalfMultinomialLoss",
		"sklearn._loss._loss.CyExponentialLoss",
	} {
		inert[c] = true
	}
}
