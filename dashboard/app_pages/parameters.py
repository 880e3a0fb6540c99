"""Placeholder until the page lands."""

import streamlit as st

st.title("parameters")
st.info("This page is being built.")
