package main

// Object stores for data: s3://, gs:// and azblob:// names in --in, --out and
// --rejects go through package dataset, which this import registers them with.
// Model URIs in object stores are resolved by package model.
import _ "github.com/mlbatch/mlbatch/dataset/blobstore"
