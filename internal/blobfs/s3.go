package blobfs

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// openS3 opens an S3 bucket the way s3blob's URL opener does (the same query
// parameters: region, endpoint, profile, use_path_style, disable_https,
// accelerate, ssetype, kmskeyid, anonymous, ...), with what boto3 users expect
// and the AWS SDK for Go leaves out: MLflow's MLFLOW_S3_ENDPOINT_URL, path-style
// requests against a custom endpoint, AWS_DEFAULT_REGION and a default region.
// It also keeps the SDK from printing a warning on stderr for every object
// uploaded in parts (whose checksum it cannot validate whole).
func openS3(ctx context.Context, bucket string, q url.Values) (*blob.Bucket, error) {
	q = cloneValues(q)
	var opts s3blob.Options
	var s3opts []func(*s3.Options)
	if v := q.Get("ssetype"); v != "" {
		found := false
		for _, t := range types.ServerSideEncryptionAes256.Values() {
			if strings.EqualFold(string(t), v) {
				opts.EncryptionType, found = t, true
			}
		}
		if !found {
			return nil, fmt.Errorf("ssetype=%s: want one of %v", v, types.ServerSideEncryptionAes256.Values())
		}
	}
	opts.KMSEncryptionID = q.Get("kmskeyid")
	var pathStyle, disableHTTPS, accelerate *bool
	for _, p := range []struct {
		key string
		dst **bool
	}{{"use_path_style", &pathStyle}, {"s3ForcePathStyle", &pathStyle}, {"disable_https", &disableHTTPS}, {"accelerate", &accelerate}} {
		if v := q.Get(p.key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", p.key, err)
			}
			*p.dst = &b
		}
	}
	for _, k := range []string{"ssetype", "kmskeyid", "use_path_style", "s3ForcePathStyle", "disable_https", "accelerate"} {
		q.Del(k)
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" && os.Getenv("AWS_ENDPOINT_URL_S3") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
		if e := os.Getenv("MLFLOW_S3_ENDPOINT_URL"); e != "" {
			q.Set("endpoint", e)
			endpoint = e
		}
	}
	custom := endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	if pathStyle == nil && custom {
		t := true
		pathStyle = &t
	}
	if !q.Has("region") && os.Getenv("AWS_REGION") == "" {
		region := os.Getenv("AWS_DEFAULT_REGION")
		if region == "" {
			var lo []func(*config.LoadOptions) error
			if p := q.Get("profile"); p != "" {
				lo = append(lo, config.WithSharedConfigProfile(p))
			}
			if cfg, err := config.LoadDefaultConfig(ctx, lo...); err == nil {
				region = cfg.Region
			}
		}
		if region == "" {
			region = "us-east-1"
		}
		q.Set("region", region)
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, err
	}
	s3opts = append(s3opts, func(o *s3.Options) {
		o.DisableLogOutputChecksumValidationSkipped = true
		if pathStyle != nil {
			o.UsePathStyle = *pathStyle
		}
		if disableHTTPS != nil {
			o.EndpointOptions.DisableHTTPS = *disableHTTPS
		}
		if accelerate != nil {
			o.UseAccelerate = *accelerate
		}
	})
	opts.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	return s3blob.OpenBucket(ctx, s3.NewFromConfig(cfg, s3opts...), bucket, &opts)
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
