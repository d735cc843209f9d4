package control

// Video is an encoder configuration's video settings.
type Video struct {
	Width     *int     `json:"width,omitempty"`
	Height    *int     `json:"height,omitempty"`
	Framerate *float64 `json:"framerate,omitempty"`
	Bitrate   *int     `json:"bitrate,omitempty"`
}

// EncoderConfiguration is the API's EncoderConfiguration.
type EncoderConfiguration struct {
	ARN   string            `json:"arn"`
	Name  string            `json:"name"`
	Video Video             `json:"video"`
	Tags  map[string]string `json:"tags"`
}

// EncoderConfigurationSummary is the API's EncoderConfigurationSummary.
type EncoderConfigurationSummary struct {
	ARN  string            `json:"arn"`
	Name string            `json:"name"`
	Tags map[string]string `json:"tags"`
}

// S3StorageConfiguration names the bucket.
type S3StorageConfiguration struct {
	BucketName string `json:"bucketName"`
}

// StorageConfiguration is the API's StorageConfiguration (and
// StorageConfigurationSummary, which has the same members).
type StorageConfiguration struct {
	ARN  string                  `json:"arn"`
	Name string                  `json:"name"`
	S3   *S3StorageConfiguration `json:"s3,omitempty"`
	Tags map[string]string       `json:"tags"`
}

type createEncoderConfigurationRequest struct {
	Name  string            `json:"name"`
	Video *Video            `json:"video"`
	Tags  map[string]string `json:"tags"`
}

// encoderConfigurationResponse is CreateEncoderConfiguration's and
// GetEncoderConfiguration's output.
type encoderConfigurationResponse struct {
	EncoderConfiguration EncoderConfiguration `json:"encoderConfiguration"`
}

type listEncoderConfigurationsResponse struct {
	EncoderConfigurations []EncoderConfigurationSummary `json:"encoderConfigurations"`
	NextToken             string                        `json:"nextToken,omitempty"`
}

type createStorageConfigurationRequest struct {
	Name string                  `json:"name"`
	S3   *S3StorageConfiguration `json:"s3"`
	Tags map[string]string       `json:"tags"`
}

// storageConfigurationResponse is CreateStorageConfiguration's and
// GetStorageConfiguration's output.
type storageConfigurationResponse struct {
	StorageConfiguration StorageConfiguration `json:"storageConfiguration"`
}

type listStorageConfigurationsResponse struct {
	NextToken             string                 `json:"nextToken,omitempty"`
	StorageConfigurations []StorageConfiguration `json:"storageConfigurations"`
}
